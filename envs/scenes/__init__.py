"""Image-goal scenes without a simulator: seeded layouts (rooms, maze, halls), splits, palettes, landmarks,
geodesic distances, shortest-path waypoints and episode sampling; and the Isaac Lab tasks built on them
(``GoalNav-Rooms``, ``GoalNav-Maze``, ``GoalNav-Halls``)."""

import gymnasium as gym

from envs.scenes import agents
from envs.scenes.geodesic import (
    GOAL_HEADINGS,
    PLAN_RESOLUTION,
    ROBOT_RADIUS,
    GeodesicPlanner,
    SceneEpisode,
    arrival_heading,
    distance_field,
    goal_visible,
    inflate,
    planning_grid,
    sample_episode,
    time_limit_steps,
    traversal,
)
from envs.scenes.layout import (
    CELL,
    GRID_SHAPE,
    LANDMARK_KINDS,
    LANDMARKS_PER_KIND,
    MAX_LANDMARKS,
    MAX_WALL_CELLS,
    MAX_WALLS,
    PALETTES,
    SPLITS,
    STYLES,
    TEST_ONLY_PALETTES,
    WALL_HEIGHT,
    Landmark,
    Palette,
    SceneLayout,
    cell_to_xy,
    generate,
    seeds,
    split_of,
    xy_to_cell,
)

__all__ = [
    "CELL",
    "GOAL_HEADINGS",
    "GRID_SHAPE",
    "LANDMARK_KINDS",
    "LANDMARKS_PER_KIND",
    "MAX_LANDMARKS",
    "MAX_WALL_CELLS",
    "MAX_WALLS",
    "PALETTES",
    "PLAN_RESOLUTION",
    "ROBOT_RADIUS",
    "SPLITS",
    "STYLES",
    "TEST_ONLY_PALETTES",
    "WALL_HEIGHT",
    "GeodesicPlanner",
    "Landmark",
    "Palette",
    "SceneEpisode",
    "SceneLayout",
    "arrival_heading",
    "goal_visible",
    "cell_to_xy",
    "distance_field",
    "generate",
    "inflate",
    "planning_grid",
    "sample_episode",
    "seeds",
    "split_of",
    "time_limit_steps",
    "traversal",
    "xy_to_cell",
]

for _style, _cfg in (("Rooms", "RoomsEnvCfg"), ("Maze", "MazeEnvCfg"), ("Halls", "HallsEnvCfg")):
    gym.register(
        id=f"GoalNav-{_style}",
        entry_point=f"{__name__}.scene_env:SceneEnv",
        disable_env_checker=True,
        kwargs={
            "env_cfg_entry_point": f"{__name__}.scene_env_cfg:{_cfg}",
            "sb3_cfg_entry_point": f"{agents.__name__}:sb3_ppo_cfg.yaml",
        },
    )
