"""The committed USD assets are exactly what assets/make_assets.py writes."""

import importlib.util
from pathlib import Path

ASSETS = Path(__file__).resolve().parents[1] / "assets"


def test_committed_assets_match_the_script(tmp_path):
    spec = importlib.util.spec_from_file_location("make_assets", ASSETS / "make_assets.py")
    make_assets = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_assets)
    written = make_assets.write_all(tmp_path)
    assert len(written) == 2 + 5 + 7  # robot, ground, five spheres, seven scene pieces
    for path in written:
        committed = ASSETS / path.relative_to(tmp_path)
        assert committed.read_text() == path.read_text(), f"{committed} is stale: run `make assets`"


def test_robot_matches_the_env_constants():
    from envs.common import robot

    text = (ASSETS / "robot" / "goalnav_bot.usda").read_text()
    assert f"float radius = {robot.WHEEL_RADIUS}" in text or f"double radius = {robot.WHEEL_RADIUS}" in text
    assert f"({robot.AXLE_X}, {robot.TRACK / 2}, {robot.WHEEL_RADIUS})" in text
