"""The replay viewer (evaluation/viewer.py): its scene and playback in-process, then for real in headless
Chromium: `evaluation/run.py --replay DIR --viz viser` serves it, the browser draws it, plays, pauses and
steps it, and a screenshot (kept beside the results as replay_episode_0_viewer.png) shows the robot,
the spheres, the floor and the driven path."""

from __future__ import annotations

import colorsys
import csv
import json
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from browser import chromium, headless_chromium

from episodes.sets import load_episode_set
from evaluation.viewer import PATH_COLOR, ROBOT_COLOR, ReplayViewer, episode_scene, split_frame
from rollouts.frames import RGB
from rollouts.metrics import EpisodeRecord

REPO = Path(__file__).resolve().parents[1]
WINDOW = (1400, 900)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def straight_poses(episode, steps: int, fraction: float = 0.8) -> np.ndarray:
    """(steps, 3) poses from the arena episode's start straight towards its target sphere."""
    start, goal = np.asarray(episode.start_xy, float), np.asarray(episode.sphere_xy, float)[episode.target]
    xy = start + np.linspace(0, fraction, steps)[:, None] * (goal - start)
    yaw = np.full((steps, 1), np.arctan2(goal[1] - start[1], goal[0] - start[0]))
    return np.concatenate([xy, yaw], axis=1)


def fake_frames(steps: int, camera: int = 64) -> list[np.ndarray]:
    """Frames shaped as rollouts.frames.video_frame draws them: camera | goal | map, each 2x camera high."""
    size = 2 * camera
    return [np.full((size, 3 * size, 3), t % 256, np.uint8) for t in range(steps)]


# --- in-process: scene and playback ---------------------------------------------------------------------


def test_episode_scene_draws_the_arena_and_the_scenes_from_their_layouts():
    episode = load_episode_set("arena", "paper", "test")[3]
    scene = episode_scene("arena", episode)
    spheres = [s for s in scene.solids if s.kind == "sphere"]
    assert len(spheres) == 5 and len([s for s in scene.solids if s.kind == "box"]) == 4  # four walls
    assert [s.color for s in spheres] == list(RGB.values())
    assert np.allclose(scene.goal_xy, episode.sphere_xy[episode.target]) and scene.success_radius == 0.3
    seed, rooms_episode = load_episode_set("rooms", "test", "test")[0]
    rooms = episode_scene("rooms", (seed, rooms_episode), success_radius=0.5)
    assert scene.extent == 3.0 and rooms.extent == 8.0 and rooms.goal_yaw is not None
    assert len(rooms.solids) > 10 and np.allclose(rooms.goal_xy, rooms_episode.goal_xy)


def test_split_frame_refuses_what_is_not_a_replay_frame():
    ego, goal, top = split_frame(fake_frames(1)[0])
    assert ego.shape == goal.shape == top.shape == (128, 128, 3)
    with pytest.raises(ValueError, match="camera \\| goal \\| map"):
        split_frame(np.zeros((128, 201, 3), np.uint8))


def test_playback_steps_plays_pauses_and_stops_at_the_end():
    episode = load_episode_set("arena", "paper", "test")[0]
    poses = straight_poses(episode, 12)
    viewer = ReplayViewer(fake_frames(12), poses, episode_scene("arena", episode), port=free_port())
    try:
        assert viewer.step == 0 and not viewer.playing
        assert viewer.set_step(5) == 5 and np.allclose(viewer.robot.position[:2], poses[5, :2])
        assert int(viewer.slider.value) == 5 and "step **5** of 11" in viewer.readout.content
        assert viewer.set_step(-3) == 0 and viewer.set_step(99) == 11  # clipped to the episode
        viewer.set_step(9)
        viewer.play()
        viewer.tick()
        assert viewer.step == 10 and viewer.playing and viewer.pause_button.visible
        viewer.pause()
        viewer.tick()
        assert viewer.step == 10 and viewer.play_button.visible
        viewer.play()
        viewer.tick()
        viewer.tick()  # the last step pauses
        assert viewer.step == 11 and not viewer.playing
        viewer.play()  # playing again starts over
        assert viewer.step == 0 and viewer.playing
        viewer.jump.value = 7  # what the browser's number field does
        assert viewer.step == 7
    finally:
        viewer.close()
    with pytest.raises(ValueError, match="one frame per pose"):
        ReplayViewer(fake_frames(3), poses, episode_scene("arena", episode), port=free_port())


def test_isaac_labs_viser_viewer_gets_the_to_numpy_newton_lacks():
    import torch
    import warp as wp

    from envs.viz import patch_viser_viewer, visualizer_cfgs

    visualizer_cfgs("viser")  # applies the patch
    patch_viser_viewer()  # and again is harmless
    from isaaclab_visualizers.viser.viser_visualizer import NewtonViewerViser

    to_numpy = NewtonViewerViser._to_numpy
    wp.init()
    assert to_numpy(None) is None
    for array in (
        wp.array([[1.0, 2.0]], dtype=float, device="cpu"),
        torch.tensor([[1.0, 2.0]]),
        [[1.0, 2.0]],
    ):
        assert np.array_equal(to_numpy(array), [[1.0, 2.0]])


# --- for real, in headless Chromium -----------------------------------------------------------------------


def write_results(results: Path, episode, poses: np.ndarray) -> None:
    """A results folder as evaluation/run.py writes it, with one recorded episode."""
    results.mkdir(parents=True)
    summary = {"policy": "scripted", "env": "arena", "layout": "paper", "split": "test", "episodes": 1}
    (results / "summary.json").write_text(json.dumps(summary))
    np.savez(results / "trajectories.npz", episode_0=poses)
    path = float(np.linalg.norm(np.diff(poses[:, :2], axis=0), axis=1).sum())
    record = EpisodeRecord(
        0, "red", "go to the red sphere", False, True, len(poses), path, 1.0, 1.3, 0.3, 0, 0.0, 0.7
    )
    with (results / "episodes.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(vars(record)))
        writer.writeheader()
        writer.writerow(vars(record))


def hue_mask(
    img: np.ndarray, rgb: tuple[int, int, int], hue_tol: float = 0.03, min_sat: float = 0.45
) -> np.ndarray:
    """Pixels of about the hue of `rgb` (any shading), saturated enough not to be grey."""
    target = colorsys.rgb_to_hsv(*(c / 255 for c in rgb))[0]
    x = img[..., :3].astype(np.float32) / 255
    top, bottom = x.max(-1), x.min(-1)
    chroma = top - bottom
    safe = np.where(chroma == 0, 1, chroma)
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    hue = (
        np.where(top == r, ((g - b) / safe) % 6, np.where(top == g, (b - r) / safe + 2, (r - g) / safe + 4))
        / 6
    )
    distance = np.minimum(np.abs(hue - target), 1 - np.abs(hue - target))
    return (distance < hue_tol) & (chroma / np.maximum(top, 1e-6) > min_sat) & (top > 0.25) & (chroma > 0)


def drawn(shot: np.ndarray) -> dict[str, int]:
    """Pixel counts of what the 3-D view must show, left of the control panel."""
    scene = shot[:, : int(0.68 * shot.shape[1])]
    counts = {name: int(hue_mask(scene, rgb).sum()) for name, rgb in RGB.items()}
    counts["robot"] = int(hue_mask(scene, ROBOT_COLOR).sum())
    counts["path"] = int((np.abs(scene[..., :3].astype(int) - PATH_COLOR).max(-1) < 40).sum())
    grey = scene[..., :3].astype(int)
    lit_grey = (
        (grey.min(-1) > 150) & (grey.max(-1) < 248) & (grey.max(-1) - grey.min(-1) < 30)
    )  # not the white page
    counts["floor and walls"] = int(lit_grey.sum())
    counts["distinct colours"] = len(np.unique(scene[::4, ::4, :3].reshape(-1, 3), axis=0))
    return counts


def scene_is_drawn(counts: dict[str, int]) -> bool:
    return (
        all(counts[name] >= 15 for name in (*RGB, "robot", "path"))
        and counts["floor and walls"] > 20_000
        and counts["distinct colours"] > 50
    )


def test_pixel_checks_refuse_a_blank_page_and_a_page_without_the_robot():
    blank = np.full((*WINDOW[::-1], 3), 255, np.uint8)
    assert not scene_is_drawn(drawn(blank))
    scene = (
        np.random.default_rng(0).integers(190, 206, blank.shape).astype(np.uint8)
    )  # a shaded grey floor ...
    for k, rgb in enumerate(RGB.values()):  # ... with the five spheres and the path, but no robot
        scene[100 + 40 * k : 130 + 40 * k, 100:130] = rgb
    scene[400:420, 100:400] = PATH_COLOR
    counts = drawn(scene)
    assert counts["robot"] == 0 and not scene_is_drawn(counts)
    scene[600:620, 600:640] = ROBOT_COLOR
    assert scene_is_drawn(drawn(scene))


def page_step(driver) -> tuple[int, int]:
    from selenium.webdriver.common.by import By

    found = re.search(r"step (\d+) of (\d+)", driver.find_element(By.TAG_NAME, "body").text)
    assert found, "the step readout is not on the page"
    return int(found.group(1)), int(found.group(2))


def wait_for(predicate, timeout: float, what: str, interval: float = 0.25):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(interval)


def test_replay_viewer_in_headless_chromium(tmp_path):
    chromium()  # skip before starting the replay where the browser is missing
    pytest.importorskip("selenium", reason="selenium is in the dev dependency group: run `make setup`")
    import imageio.v2 as imageio
    from selenium.webdriver.common.by import By

    episode = load_episode_set("arena", "paper", "test")[0]
    poses = straight_poses(episode, 90)
    results = tmp_path / "results"
    write_results(results, episode, poses)
    port, log_path = free_port(), tmp_path / "replay.log"
    command = [sys.executable, "evaluation/run.py", "--replay", str(results), "--episode", "0", "--viz", "viser",
               "--viz-port", str(port), "--device", "cpu"]  # fmt: skip
    with log_path.open("w") as log:
        proc = subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, text=True)
    driver = None
    try:
        url = wait_for(
            lambda: (
                (proc.poll() is None or pytest.fail(log_path.read_text()[-3000:]))
                and re.search(r"viewer: (http://127\.0\.0\.1:\d+)", log_path.read_text())
            ),
            300,
            "the replay viewer to start",
        ).group(1)
        assert url == f"http://127.0.0.1:{port}"
        assert (results / "replay_episode_0.gif").exists()

        driver = headless_chromium(WINDOW)
        driver.get(url)
        # the control panel comes first: the step readout, the title with the episode's outcome
        wait_for(lambda: "step 0 of 89" in driver.find_element(By.TAG_NAME, "body").text, 60, "the controls")
        assert "scripted" in driver.title or "scripted" in driver.find_element(By.TAG_NAME, "body").text
        assert "failure in 90 steps" in driver.find_element(By.TAG_NAME, "body").text

        def button(label: str):
            found = driver.find_elements(By.XPATH, f"//button[contains(normalize-space(.), '{label}')]")
            return next((b for b in found if b.is_displayed()), None)

        # play, pause, step: the buttons drive the replay in the browser
        button("Play").click()
        wait_for(lambda: page_step(driver)[0] >= 30, 60, "playback to reach step 30")
        button("Pause").click()
        wait_for(lambda: button("Play"), 10, "the Play button to come back")
        time.sleep(0.5)  # a step already on its way
        paused = page_step(driver)[0]
        time.sleep(1.0)
        assert page_step(driver)[0] == paused, "pause did not stop playback"
        button("forward").click()
        wait_for(lambda: page_step(driver)[0] == paused + 1, 10, "one step forward")
        # the image of camera | goal | map is in the panel
        sizes = driver.execute_script(
            "return [...document.querySelectorAll('img')].map(i => [i.naturalWidth, i.naturalHeight])"
        )
        assert [384, 128] in sizes, sizes

        shot_path = results / "replay_episode_0_viewer.png"

        def screenshot_shows_scene():
            driver.save_screenshot(str(shot_path))
            counts = drawn(imageio.imread(shot_path))
            return counts if scene_is_drawn(counts) else None

        try:
            counts = wait_for(screenshot_shows_scene, 60, "the 3-D scene to be drawn", interval=1.0)
        except AssertionError:
            pytest.fail(
                f"the 3-D view is not drawn; pixel counts {drawn(imageio.imread(shot_path))}, see {shot_path}"
            )
        print(f"viewer screenshot: {shot_path}; pixel counts {counts}")
    finally:
        if driver is not None:
            driver.quit()
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # Ctrl-C
        try:
            proc.wait(timeout=60)
        finally:
            proc.kill()
    assert proc.returncode == 0, log_path.read_text()[-3000:]
