"""Write goalnav's USD assets: the differential-drive robot and the movable marker bodies.

Everything the simulator loads is authored here from primitive shapes, so nothing is downloaded.
Run ``python assets/make_assets.py`` after changing a number below; a test checks the committed
files match what this script writes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pxr import Gf, Sdf, Usd, UsdGeom, UsdPhysics, UsdShade

ASSETS_DIR = Path(__file__).resolve().parent

# Robot geometry (Jetbot-sized) [m, kg]
WHEEL_RADIUS = 0.033
TRACK = 0.12  # distance between the wheel centres
BASE_SIZE = (0.14, 0.05, 0.05)  # narrower than the gap between the wheel spheres, which must not touch it
BASE_HEIGHT = 0.055  # base centre above the floor
BASE_MASS = 0.5
WHEEL_MASS = 0.05
CASTER_RADIUS = 0.015
CASTER_X = -0.055
WHEEL_X = 0.025  # wheels ahead of the base centre, caster behind: the centre of mass sits between them (envs: AXLE_X)
CASTER_FRICTION = 1e-3  # must stay > 0: zero friction makes MuJoCo Warp produce NaNs
WHEEL_FRICTION = 1.0
CAMERA_POS = (0.065, 0.0, 0.05)  # camera on the base, relative to the base centre

# Movable marker bodies (arena spheres, maze walls): a fixed-base two-body articulation each
SPHERE_RADIUS = 0.1
SPHERE_COLORS = {
    "red": (0.9, 0.1, 0.1),
    "green": (0.1, 0.8, 0.15),
    "blue": (0.1, 0.25, 0.95),
    "yellow": (0.95, 0.85, 0.1),
    "magenta": (0.9, 0.1, 0.85),
}

ROBOT_USD = ASSETS_DIR / "robot" / "goalnav_bot.usda"
GROUND_USD = ASSETS_DIR / "ground" / "ground_plane.usda"
GROUND_SIZE = 400.0  # [m] a collision plane shared by every env (primitive contacts are cheap)
GROUND_COLOR = (0.62, 0.60, 0.55)
GROUND_FRICTION = 0.01  # MuJoCo uses the larger friction of two shapes: the caster slides, the tyres grip


def sphere_usd(color: str) -> Path:
    return ASSETS_DIR / "markers" / f"sphere_{color}.usda"


def _new_stage(path: Path, root: str) -> tuple[Usd.Stage, Usd.Prim]:
    path.parent.mkdir(parents=True, exist_ok=True)
    stage = Usd.Stage.CreateInMemory(str(path))
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    UsdGeom.SetStageMetersPerUnit(stage, 1.0)
    UsdPhysics.SetStageKilogramsPerUnit(stage, 1.0)
    prim = UsdGeom.Xform.Define(stage, f"/{root}").GetPrim()
    stage.SetDefaultPrim(prim)
    return stage, prim


def _material(
    stage: Usd.Stage, path: str, color: tuple[float, float, float], friction: float
) -> UsdShade.Material:
    """A preview-surface colour plus physics friction in one material."""
    material = UsdShade.Material.Define(stage, path)
    shader = UsdShade.Shader.Define(stage, f"{path}/Shader")
    shader.CreateIdAttr("UsdPreviewSurface")
    shader.CreateInput("diffuseColor", Sdf.ValueTypeNames.Color3f).Set(Gf.Vec3f(*color))
    shader.CreateInput("roughness", Sdf.ValueTypeNames.Float).Set(0.6)
    material.CreateSurfaceOutput().ConnectToSource(shader.ConnectableAPI(), "surface")
    physics = UsdPhysics.MaterialAPI.Apply(material.GetPrim())
    physics.CreateStaticFrictionAttr(friction)
    physics.CreateDynamicFrictionAttr(friction)
    physics.CreateRestitutionAttr(0.0)
    return material


def _collider(prim: Usd.Prim, material: UsdShade.Material) -> None:
    UsdPhysics.CollisionAPI.Apply(prim)
    binding = UsdShade.MaterialBindingAPI.Apply(prim)
    binding.Bind(material)
    binding.Bind(material, UsdShade.Tokens.weakerThanDescendants, "physics")


def _body(stage: Usd.Stage, path: str, pos: tuple[float, float, float], mass: float) -> Usd.Prim:
    xform = UsdGeom.Xform.Define(stage, path)
    xform.AddTranslateOp().Set(Gf.Vec3d(*pos))
    prim = xform.GetPrim()
    UsdPhysics.RigidBodyAPI.Apply(prim)
    UsdPhysics.MassAPI.Apply(prim).CreateMassAttr(mass)
    return prim


def write_robot(path: Path = ROBOT_USD) -> Path:
    """Differential-drive robot: box base (articulation root), two driven wheels, a low-friction caster."""
    stage, root = _new_stage(path, "Robot")
    body_mat = _material(stage, "/Robot/Looks/body", (0.15, 0.15, 0.17), WHEEL_FRICTION)
    wheel_mat = _material(stage, "/Robot/Looks/wheel", (0.05, 0.05, 0.05), WHEEL_FRICTION)
    caster_mat = _material(stage, "/Robot/Looks/caster", (0.6, 0.6, 0.6), CASTER_FRICTION)

    base = _body(stage, "/Robot/base", (0.0, 0.0, BASE_HEIGHT), BASE_MASS)
    UsdPhysics.ArticulationRootAPI.Apply(base)
    box = UsdGeom.Cube.Define(stage, "/Robot/base/box")
    box.CreateSizeAttr(1.0)
    box.AddScaleOp().Set(Gf.Vec3f(*BASE_SIZE))
    _collider(box.GetPrim(), body_mat)
    caster = UsdGeom.Sphere.Define(stage, "/Robot/base/caster")
    caster.CreateRadiusAttr(CASTER_RADIUS)
    caster.AddTranslateOp().Set(Gf.Vec3d(CASTER_X, 0.0, CASTER_RADIUS - BASE_HEIGHT))
    _collider(caster.GetPrim(), caster_mat)
    # a marker frame for the egocentric camera
    UsdGeom.Xform.Define(stage, "/Robot/base/camera_mount").AddTranslateOp().Set(Gf.Vec3d(*CAMERA_POS))

    for side, y in (("left", TRACK / 2), ("right", -TRACK / 2)):
        wheel = _body(stage, f"/Robot/{side}_wheel", (WHEEL_X, y, WHEEL_RADIUS), WHEEL_MASS)
        sphere = UsdGeom.Sphere.Define(stage, f"/Robot/{side}_wheel/collider")
        sphere.CreateRadiusAttr(WHEEL_RADIUS)
        _collider(sphere.GetPrim(), wheel_mat)
        joint = UsdPhysics.RevoluteJoint.Define(stage, f"/Robot/joints/{side}_wheel_joint")
        joint.CreateBody0Rel().SetTargets([base.GetPath()])
        joint.CreateBody1Rel().SetTargets([wheel.GetPath()])
        joint.CreateLocalPos0Attr(Gf.Vec3f(WHEEL_X, y, WHEEL_RADIUS - BASE_HEIGHT))
        joint.CreateLocalPos1Attr(Gf.Vec3f(0.0, 0.0, 0.0))
        joint.CreateLocalRot0Attr(Gf.Quatf(1.0))
        joint.CreateLocalRot1Attr(Gf.Quatf(1.0))
        joint.CreateAxisAttr("Y")  # +omega about +Y rolls the robot forward (+X)
        drive = UsdPhysics.DriveAPI.Apply(joint.GetPrim(), "angular")
        drive.CreateTypeAttr("force")
        drive.CreateStiffnessAttr(0.0)
        drive.CreateDampingAttr(0.02)
        drive.CreateMaxForceAttr(0.3)
    stage.GetRootLayer().Export(str(path))
    return path


def write_ground(path: Path = GROUND_USD) -> Path:
    """A flat collision plane (z = 0) with a low-friction, coloured material."""
    stage, root = _new_stage(path, "Ground")
    mat = _material(stage, "/Ground/Looks/floor", GROUND_COLOR, GROUND_FRICTION)
    plane = UsdGeom.Plane.Define(stage, "/Ground/plane")
    plane.CreateAxisAttr("Z")
    plane.CreateWidthAttr(GROUND_SIZE)
    plane.CreateLengthAttr(GROUND_SIZE)
    _collider(plane.GetPrim(), mat)
    stage.GetRootLayer().Export(str(path))
    return path


def _fixed_articulation(stage: Usd.Stage, root: str) -> Usd.Prim:
    """A body fixed to the world plus a tiny second body: a fixed-base articulation whose pose can be written."""
    body = _body(stage, f"{root}/body", (0.0, 0.0, 0.0), 1.0)
    UsdPhysics.ArticulationRootAPI.Apply(body)
    anchor = UsdPhysics.FixedJoint.Define(stage, f"{root}/anchor_joint")
    anchor.CreateBody1Rel().SetTargets([body.GetPath()])
    tip = _body(stage, f"{root}/tip", (0.0, 0.0, 0.0), 0.01)
    UsdPhysics.MassAPI(tip).CreateDiagonalInertiaAttr(Gf.Vec3f(1e-6, 1e-6, 1e-6))
    joint = UsdPhysics.FixedJoint.Define(stage, f"{root}/tip_joint")
    joint.CreateBody0Rel().SetTargets([body.GetPath()])
    joint.CreateBody1Rel().SetTargets([tip.GetPath()])
    return body


def write_marker_sphere(color: str, path: Path | None = None) -> Path:
    """A coloured sphere as a fixed-base two-body articulation, so its pose can be written per env."""
    path = path or sphere_usd(color)
    stage, root = _new_stage(path, "Marker")
    mat = _material(stage, "/Marker/Looks/surface", SPHERE_COLORS[color], 0.5)
    _fixed_articulation(stage, "/Marker")
    sphere = UsdGeom.Sphere.Define(stage, "/Marker/body/sphere")
    sphere.CreateRadiusAttr(SPHERE_RADIUS)
    _collider(sphere.GetPrim(), mat)
    stage.GetRootLayer().Export(str(path))
    return path


def scene_usd(name: str) -> Path:
    return ASSETS_DIR / "scenes" / f"{name}.usda"


def write_scene_piece(name: str, path: Path | None = None) -> Path:
    """Image-goal scene pieces, each a fixed-base articulation centred on its body origin so a reset can move
    it and recolour it per env: a wall block (one grid cell), a border wall (one side), the floor tile
    (visual only) and the landmarks (visual only; the planner treats their cells as occupied)."""
    from envs.scenes.layout import CELL, GRID_SHAPE, LANDMARK_SIZE, WALL_HEIGHT

    path = path or scene_usd(name)
    stage, root = _new_stage(path, "Piece")
    mat = _material(stage, "/Piece/Looks/surface", (0.7, 0.7, 0.7), 0.5)
    _fixed_articulation(stage, "/Piece")
    side, r = GRID_SHAPE[1] * CELL, LANDMARK_SIZE / 2

    def cube(prim_path: str, size: tuple[float, float, float]) -> Usd.Prim:
        geom = UsdGeom.Cube.Define(stage, prim_path)
        geom.CreateSizeAttr(1.0)
        geom.AddScaleOp().Set(Gf.Vec3f(*size))
        return geom.GetPrim()

    if name in ("wall_block", "border_wall"):
        # full-size visual box; a collider 3 mm inside it (1 cm above the floor), so that neighbouring
        # pieces and the floor stay beyond the contact gap (see envs/scenes/scene_env_cfg.py)
        length = CELL if name == "wall_block" else side - CELL
        visual = cube("/Piece/body/geom", (length, CELL, WALL_HEIGHT))
        UsdShade.MaterialBindingAPI.Apply(visual).Bind(mat)
        _collider(cube("/Piece/body/collider", (length - 0.006, CELL - 0.006, WALL_HEIGHT - 0.02)), mat)
    else:
        if name == "floor_tile":
            geom = UsdGeom.Cube.Get(stage, cube("/Piece/body/geom", (side, side, 0.01)).GetPath())
        elif name == "landmark_box":
            geom = UsdGeom.Cube.Define(stage, "/Piece/body/geom")
            geom.CreateSizeAttr(LANDMARK_SIZE)
        elif name == "landmark_sphere":
            geom = UsdGeom.Sphere.Define(stage, "/Piece/body/geom")
            geom.CreateRadiusAttr(r)
        elif name in ("landmark_cylinder", "landmark_cone"):
            kind = UsdGeom.Cylinder if name == "landmark_cylinder" else UsdGeom.Cone
            geom = kind.Define(stage, "/Piece/body/geom")
            geom.CreateRadiusAttr(r)
            geom.CreateHeightAttr(LANDMARK_SIZE)
            geom.CreateAxisAttr("Z")
        else:
            raise ValueError(f"unknown scene piece {name!r}")
        UsdShade.MaterialBindingAPI.Apply(geom.GetPrim()).Bind(mat)  # visual only
    stage.GetRootLayer().Export(str(path))
    return path


SCENE_PIECES = ("wall_block", "border_wall", "floor_tile", "landmark_box", "landmark_cylinder", "landmark_sphere",
                "landmark_cone")  # fmt: skip


def write_all(out_dir: Path = ASSETS_DIR) -> list[Path]:
    paths = [
        write_robot(out_dir / ROBOT_USD.relative_to(ASSETS_DIR)),
        write_ground(out_dir / GROUND_USD.relative_to(ASSETS_DIR)),
    ]
    for color in SPHERE_COLORS:
        paths.append(write_marker_sphere(color, out_dir / sphere_usd(color).relative_to(ASSETS_DIR)))
    for name in SCENE_PIECES:
        paths.append(write_scene_piece(name, out_dir / scene_usd(name).relative_to(ASSETS_DIR)))
    return paths


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=ASSETS_DIR, help="folder to write into (default: assets/)"
    )
    for written in write_all(parser.parse_args().out):
        print(f"wrote {written}")
