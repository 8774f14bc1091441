"""The replay viewer: step through a recorded episode in the browser.

    python evaluation/run.py --replay results/arena/expert --episode 3 --viz viser [--viz-port 8080]

After the replay has rendered every step once, this serves its own viser page: a 3-D view of the
episode (floor, walls, spheres or landmarks, the goal, the robot on the step shown, the driven path)
with playback controls (play, pause, step, jump to a step, speed) and, beside it, the egocentric
camera, the goal image and the top-down map of that step. It serves until Ctrl-C.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

import numpy as np

from envs.arena import layout as arena_layout
from envs.arena.layout import ARENA_SIZE, SPHERE_RADIUS
from envs.scenes import CELL, GRID_SHAPE, WALL_HEIGHT, generate
from rollouts.frames import RGB

# drawn sizes [m], as assets/make_assets.py and envs/arena/arena_env_cfg.py build them
ARENA_WALL = (0.05, 0.25)  # thickness, height
ROBOT_BASE = (0.14, 0.05, 0.05)  # the base box; its centre is 0.055 m above the floor
ROBOT_HEIGHT = 0.055
WHEEL_RADIUS, TRACK = 0.033, 0.12
CAMERA_HEIGHT = 0.1
ROBOT_COLOR = (0, 200, 210)  # cyan: no sphere, landmark palette or floor has this hue
PATH_COLOR = (255, 120, 0)  # the path driven up to the step shown
FULL_PATH_COLOR = (150, 150, 150)  # the whole recorded path
GOAL_COLOR = (20, 150, 40)
LANDMARK_KINDS = ("box", "cylinder", "sphere", "cone")


@dataclass
class Solid:
    """A coloured primitive of the 3-D view; `size` is (x, y, z) extents, centre at `position`."""

    kind: str  # box, sphere, cylinder or cone
    position: tuple[float, float, float]
    size: tuple[float, float, float]
    color: tuple[int, int, int]


@dataclass
class EpisodeScene:
    """What the 3-D view draws for one episode, built from its env and layout (no simulator)."""

    extent: float  # [m] side of the square floor, centred on the origin
    floor_color: tuple[int, int, int]
    solids: list[Solid] = field(default_factory=list)
    goal_xy: tuple[float, float] = (0.0, 0.0)
    goal_yaw: float | None = None  # image-goal scenes: the heading the goal image was taken with
    success_radius: float = 0.3


def _rgb255(color) -> tuple[int, int, int]:
    return tuple(int(round(255 * c)) for c in color)


def episode_scene(env: str, episode, success_radius: float | None = None) -> EpisodeScene:
    """The 3-D layout of an episode of a fixed set: arena spheres or the image-goal scene's layout."""
    if env == "arena":
        half, (thick, height) = ARENA_SIZE / 2, ARENA_WALL
        side = ARENA_SIZE + 2 * thick
        wall = (178, 189, 204)
        solids = [
            Solid("box", (0.0, sy * (half + thick / 2), height / 2), (side, thick, height), wall)
            for sy in (1, -1)
        ] + [
            Solid("box", (sx * (half + thick / 2), 0.0, height / 2), (thick, side, height), wall)
            for sx in (1, -1)
        ]
        for k, (x, y) in enumerate(np.asarray(episode.sphere_xy)):
            d = 2 * SPHERE_RADIUS
            solids.append(
                Solid("sphere", (float(x), float(y), SPHERE_RADIUS), (d, d, d), RGB[arena_layout.COLORS[k]])
            )
        goal = np.asarray(episode.sphere_xy)[episode.target]
        return EpisodeScene(
            ARENA_SIZE, (215, 215, 210), solids, (float(goal[0]), float(goal[1])), None, success_radius or 0.3
        )
    seed, scene_episode = episode
    scene = generate(env, int(seed))
    solids = [
        Solid(
            "box",
            (float(cx), float(cy), WALL_HEIGHT / 2),
            (float(sx), float(sy), WALL_HEIGHT),
            _rgb255(scene.palette.wall),
        )
        for cx, cy, sx, sy in np.asarray(scene.walls)
    ]
    for mark in scene.landmarks:
        kind = mark.kind if mark.kind in LANDMARK_KINDS else "box"
        solids.append(Solid(kind, (mark.x, mark.y, mark.size / 2), (mark.size,) * 3, _rgb255(mark.color)))
    goal = scene_episode.goal_xy
    return EpisodeScene(
        GRID_SHAPE[1] * CELL,
        _rgb255(scene.palette.floor),
        solids,
        (float(goal[0]), float(goal[1])),
        float(scene_episode.goal_yaw),
        success_radius or 0.5,
    )


def split_frame(frame: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A replay frame (camera | goal image | map, as rollouts.frames.video_frame draws them) in its panels."""
    height, width = frame.shape[:2]
    panel = (width - height) // 2  # the camera and the goal image are equally wide; the map is square
    if panel <= 0 or 2 * panel + height != width:
        raise ValueError(f"a replay frame is camera | goal | map side by side; got shape {frame.shape}")
    return frame[:, :panel], frame[:, panel : 2 * panel], frame[:, 2 * panel :]


def yaw_wxyz(yaw: float) -> tuple[float, float, float, float]:
    return (math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2))


# the egocentric camera's frame (OpenCV: +z forward, +y down) in the robot's (+x forward, +z up)
_CAMERA_IN_ROBOT = (0.5, -0.5, 0.5, -0.5)


def _circle(center, radius: float, z: float = 0.004, n: int = 48) -> np.ndarray:
    a = np.linspace(0, 2 * np.pi, n + 1)
    pts = np.stack([center[0] + radius * np.cos(a), center[1] + radius * np.sin(a), np.full_like(a, z)], -1)
    return np.stack([pts[:-1], pts[1:]], axis=1)


def _polyline(xy: np.ndarray, z: float) -> np.ndarray:
    """(N, 2, 3) segments along the points (a zero-length segment for a single point)."""
    pts = np.concatenate([np.asarray(xy, np.float32)[:, :2], np.full((len(xy), 1), z, np.float32)], axis=1)
    if len(pts) == 1:
        pts = np.concatenate([pts, pts])
    return np.stack([pts[:-1], pts[1:]], axis=1)


class ReplayViewer:
    """A viser server showing one recorded episode; `set_step`, `play`, `pause` drive it from code too."""

    def __init__(
        self,
        frames: list[np.ndarray],
        poses: np.ndarray,
        scene: EpisodeScene,
        title: str = "",
        info: str = "",
        host: str = "127.0.0.1",
        port: int = 8080,
        fps: float = 15.0,
    ):
        import viser

        if len(frames) != len(poses) or not len(poses):
            raise ValueError(f"need one frame per pose; got {len(frames)} frames and {len(poses)} poses")
        self.frames, self.poses, self.scene = frames, np.asarray(poses, np.float64), scene
        self.step, self.playing = 0, False
        self._lock, self._stop = threading.RLock(), threading.Event()
        self.server = viser.ViserServer(host=host, port=port, label=title or "goalnav replay", verbose=False)
        self.host, self.port = host, self.server.get_port()
        self._build_scene()
        self._build_gui(title, info, fps)
        self.set_step(0)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # --- the 3-D view ---------------------------------------------------------------------------------
    def _build_scene(self) -> None:
        s, scene = self.server.scene, self.scene
        s.set_up_direction("+z")
        s.add_box(
            "/floor",
            color=scene.floor_color,
            dimensions=(scene.extent, scene.extent, 0.01),
            position=(0.0, 0.0, -0.005),
            cast_shadow=False,
        )
        for i, solid in enumerate(scene.solids):
            name, (sx, _, sz) = f"/scene/{solid.kind}_{i}", solid.size
            if solid.kind == "sphere":
                s.add_icosphere(name, radius=sx / 2, color=solid.color, position=solid.position)
            elif solid.kind in ("cylinder", "cone"):
                # a cone is drawn as a narrow cylinder: close enough to recognise it from above
                radius = sx / 2 if solid.kind == "cylinder" else sx / 4
                s.add_cylinder(name, radius=radius, height=sz, color=solid.color, position=solid.position)
            else:
                s.add_box(name, color=solid.color, dimensions=solid.size, position=solid.position)
        s.add_line_segments(
            "/goal/radius",
            _circle(scene.goal_xy, scene.success_radius),
            GOAL_COLOR,
            thickness=4,
            thickness_units="screen",
        )
        if scene.goal_yaw is not None:
            gx, gy = scene.goal_xy
            s.add_frame(
                "/goal/pose",
                axes_length=0.25,
                axes_radius=0.015,
                position=(gx, gy, 0.15),
                wxyz=yaw_wxyz(scene.goal_yaw),
            )
        s.add_line_segments(
            "/path/recorded",
            _polyline(self.poses, 0.006),
            FULL_PATH_COLOR,
            thickness=2,
            thickness_units="screen",
        )
        # the robot: a frame moved every step, with its base, wheels, a heading marker and the camera
        self.robot = s.add_frame("/robot", show_axes=False)
        s.add_box("/robot/base", color=ROBOT_COLOR, dimensions=ROBOT_BASE, position=(0.0, 0.0, ROBOT_HEIGHT))
        for side in (1, -1):
            s.add_cylinder(
                f"/robot/wheel_{side}",
                radius=WHEEL_RADIUS,
                height=0.015,
                color=(40, 40, 40),
                position=(0.0, side * TRACK / 2, WHEEL_RADIUS),
                wxyz=(math.sqrt(0.5), math.sqrt(0.5), 0, 0),
            )
        s.add_box(
            "/robot/nose",
            color=(20, 20, 20),
            dimensions=(0.04, 0.02, 0.02),
            position=(ROBOT_BASE[0] / 2 + 0.02, 0.0, ROBOT_HEIGHT),
        )
        ego = split_frame(self.frames[0])[0]
        self.frustum = s.add_camera_frustum(
            "/robot/camera",
            fov=math.radians(90),
            aspect=ego.shape[1] / ego.shape[0],
            scale=0.08,
            color=ROBOT_COLOR,
            wxyz=_CAMERA_IN_ROBOT,
            position=(ROBOT_BASE[0] / 2, 0.0, CAMERA_HEIGHT),
            image=ego,
        )
        # from behind the south wall, looking down; shifted right so the panel on the right hides less
        shift = 0.22 * scene.extent
        self.server.initial_camera.position = (shift, -0.95 * scene.extent, 0.85 * scene.extent)
        self.server.initial_camera.look_at = (shift, -0.05 * scene.extent, 0.0)
        self.server.initial_camera.up = (0.0, 0.0, 1.0)

    # --- the panel beside it ----------------------------------------------------------------------------
    def _build_gui(self, title: str, info: str, fps: float) -> None:
        gui, last = self.server.gui, len(self.poses) - 1
        gui.configure_theme(control_width="large")
        gui.add_markdown(f"**{title}**" + (f"  \n{info}" if info else ""))
        with gui.add_folder("Playback"):
            self.play_button = gui.add_button("Play")
            self.pause_button = gui.add_button("Pause", visible=False)
            self.step_buttons = gui.add_button_group("Step", ("◀ back", "forward ▶"))
            self.slider = gui.add_slider(
                "Step", min=0, max=max(last, 1), step=1, initial_value=0, disabled=last == 0
            )
            self.jump = gui.add_number("Jump to step", initial_value=0, min=0, max=last, step=1)
            self.speed = gui.add_slider("Steps per second", min=1, max=60, step=1, initial_value=int(fps))
            self.readout = gui.add_markdown("")
        with gui.add_folder("At this step"):
            gui.add_markdown("egocentric camera · goal image · top-down path")
            self.views = gui.add_image(self.frames[0], format="png")

        self.play_button.on_click(lambda _: self.play())
        self.pause_button.on_click(lambda _: self.pause())
        self.step_buttons.on_click(
            lambda event: self.set_step(self.step + (1 if event.target.value.startswith("forward") else -1))
        )
        self.slider.on_update(lambda _: self.set_step(int(self.slider.value)))
        self.jump.on_update(lambda _: self.set_step(int(self.jump.value)))

    # --- playback ----------------------------------------------------------------------------------------
    def set_step(self, t: int) -> int:
        """Show step t (clipped to the episode); returns the step shown."""
        with self._lock:
            t = int(np.clip(t, 0, len(self.poses) - 1))
            self.step = t
            x, y, yaw = self.poses[t]
            self.robot.position, self.robot.wxyz = (float(x), float(y), 0.0), yaw_wxyz(float(yaw))
            self.server.scene.add_line_segments(
                "/path/driven",
                _polyline(self.poses[: t + 1], 0.008),
                PATH_COLOR,
                thickness=4,
                thickness_units="screen",
            )
            self.views.image, self.frustum.image = self.frames[t], split_frame(self.frames[t])[0]
            if int(self.slider.value) != t:
                self.slider.value = t
            if int(self.jump.value) != t:
                self.jump.value = t
            gx, gy = self.scene.goal_xy
            self.readout.content = (
                f"step **{t}** of {len(self.poses) - 1} · x {x:+.2f} m, y {y:+.2f} m, "
                f"heading {math.degrees(yaw):+.0f}° · {math.hypot(gx - x, gy - y):.2f} m to the goal"
            )
            if t == len(self.poses) - 1:
                self.pause()
            return t

    def play(self) -> None:
        with self._lock:
            if self.step == len(self.poses) - 1:
                self.set_step(0)  # play again from the start
            self.playing = True
            self.play_button.visible, self.pause_button.visible = False, True

    def pause(self) -> None:
        with self._lock:
            self.playing = False
            self.play_button.visible, self.pause_button.visible = True, False

    def tick(self) -> None:
        """One playback step, when playing."""
        with self._lock:
            if self.playing:
                self.set_step(self.step + 1)

    def serve_forever(self) -> None:
        """Play back at the chosen speed until close() or Ctrl-C."""
        try:
            while not self._stop.is_set():
                self.tick()
                self._stop.wait(1.0 / max(float(self.speed.value), 1.0))
        except KeyboardInterrupt:
            pass
        finally:
            self.close()

    def close(self) -> None:
        self._stop.set()
        self.server.stop()


def serve_replay(
    frames: list[np.ndarray],
    poses: np.ndarray,
    summary: dict,
    episode,
    episode_id: int,
    record: dict | None = None,
    host: str = "127.0.0.1",
    port: int | None = None,
) -> ReplayViewer:
    """Open the viewer on a replayed episode and print where; call serve_forever() on the result."""
    env = summary["env"]
    scene = episode_scene(env, episode, summary.get("success_radius"))
    where = f"{env} {summary.get('layout', '')} {summary.get('split', '')}"
    title = f"{summary.get('policy', '?')} · {where} · episode {episode_id}"
    info = ""
    if record:
        info = (
            f"{'success' if record['success'] else 'failure'} in {record['steps']} steps · "
            f"path {record['path_length']:.2f} m · SPL {record['spl']:.3f} · {record['collisions']} collisions"
        )
        if record.get("instruction"):
            info += f"  \n_{record['instruction']}_"
    viewer = ReplayViewer(frames, poses, scene, title=title, info=info, host=host, port=port or 8080)
    print(f"viewer: {viewer.url} (episode {episode_id}, {len(poses)} steps); Ctrl-C to stop", flush=True)
    return viewer
