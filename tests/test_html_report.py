"""The static HTML results page (evaluation/html_report.py, `compare.py --html`): what it shows, in-process,
then as headless Chromium loads it from file://: the table's rows and every image drawn."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from browser import headless_chromium

from evaluation import compare
from evaluation.report import write_episodes_csv, write_video
from rollouts.metrics import EpisodeRecord, summarize, summarize_groups

ODD = "<b>odd</b> & 'quoted'"  # a variant name that must come out as text, not markup


def records(successes: list[bool], graded: bool = False) -> list[EpisodeRecord]:
    colours = ["red", "green", "blue", "yellow", "magenta"]
    made = []
    for i, ok in enumerate(successes):
        r = EpisodeRecord.from_outcome(i, colours[i % 5], f"go to the {colours[i % 5]} sphere", ok, not ok,
                                       40 + 10 * i, 1.5, 1.6, 0.1 if ok else 0.9, 0, 0.3)  # fmt: skip
        if graded:
            r.bin, r.visible = ("near", "yes") if i % 2 else ("far", "no")
        made.append(r)
    return made


def write_policy(folder: Path, policy: str, recs: list[EpisodeRecord], **extra) -> dict:
    """A results folder as evaluation/run.py writes it: summary.json, episodes.csv, the driven poses of the
    first two episodes."""
    folder.mkdir(parents=True)
    summary = {"policy": policy, "env": "arena", "layout": "paper", "split": "test", "wall_seconds": 90.0,
               **summarize(recs), **summarize_groups(recs), **extra}  # fmt: skip
    (folder / "summary.json").write_text(json.dumps(summary))
    write_episodes_csv(folder / "episodes.csv", recs)
    poses = {f"episode_{r.episode_id}": np.zeros((r.steps, 3), np.float32) for r in recs[:2]}
    np.savez(folder / "trajectories.npz", **poses)
    return summary


def tiny_png(path: Path, rgb=(40, 160, 80)) -> None:
    import imageio.v3 as iio

    iio.imwrite(path, np.full((24, 32, 3), rgb, np.uint8))


@pytest.fixture
def results(tmp_path) -> Path:
    """results/arena/ under a workspace root: an expert with plots and a GIF, PIG-Nav on a graded set with
    an odd variant name and no plots (its success plot is drawn for the page), random with an mp4."""
    arena = tmp_path / "results" / "arena"
    write_policy(arena / "expert", "expert", records([True, True, True, False]))
    tiny_png(arena / "expert" / "trajectories.png")
    tiny_png(arena / "expert" / "success_by_target.png", (200, 40, 40))
    write_video(arena / "expert" / "video.gif", [np.full((16, 48, 3), c, np.uint8) for c in (0, 128, 255)])
    (arena / "expert" / ".video.gif.99.partial.gif").write_bytes(b"")  # a killed writer's debris: not shown
    write_policy(
        arena / "pignav", "pignav", records([True, False, True, False, False], graded=True), variant=ODD
    )
    write_policy(arena / "random", "random", records([False, False, False]))
    write_video(arena / "random" / "video.mp4", [np.full((16, 48, 3), c, np.uint8) for c in (0, 128, 255)])
    (tmp_path / "runs/arena/pignav").mkdir(parents=True)
    (tmp_path / "runs/arena/pignav/train_summary.json").write_text(json.dumps({"train_seconds": 600.0}))
    return arena


def test_the_page_has_every_policys_row_and_section_with_text_escaped(results, capsys):
    assert compare.main([str(results), "--html"]) == 0
    assert "| expert |" in capsys.readouterr().out  # the markdown table still goes to stdout
    page = (results / "report.html").read_text()
    body = page[page.index("<table>") :]
    # the comparison table: one row per policy in the table's order, linked to its section
    rows = [
        page.index(f'<a href="#p{i}">{name}</a>') for i, name in enumerate(("expert", "pignav", "random"))
    ]
    assert rows == sorted(rows) and "75.0%" in body and "40.0%" in body and "0.0%" in body
    assert "SigLIP-BC (published)" in body  # the published rows, as in comparison.md
    # the odd variant name is text: escaped wherever it appears, never markup
    assert "<b>odd</b>" not in page and page.count("&lt;b&gt;odd&lt;/b&gt; &amp; &#x27;quoted&#x27;") >= 3
    # per policy: success plots (pignav's drawn now), maps, videos, the graded groups, the episode list
    assert (results / "pignav" / "success_by_target.png").exists()
    for src in ("expert/success_by_target.png", "pignav/success_by_target.png", "random/success_by_target.png",
                "expert/trajectories.png"):  # fmt: skip
        assert f'<img src="{src}"' in page
    assert '<img src="expert/video.gif"' in page and '<video src="random/video.mp4"' in page
    assert page.count("No trajectory map") == 2
    assert "partial" not in page
    assert "far (3)" in page and "goal hidden at start" in page
    # each episode's replay command where its poses were recorded (the first two of each here)
    replay = f"python evaluation/run.py --replay {results}/pignav --episode 1 --viz viser"
    assert f"<code><span>{replay.replace(' ', '</span> <span>')}</span></code>" in page
    assert "--episode 2" not in page
    assert page.count("not recorded") == 2 + 3 + 1
    assert "4 episodes (3 successful)" in page and "timed out" in page
    # stage wall times from what the stages recorded
    assert "pignav training</td><td>10.0</td>" in page and "expert evaluation</td><td>1.5</td>" in page


def test_an_empty_folder_and_damaged_poses_still_give_a_page(tmp_path):
    """An empty folder still gives a page (that says so); a damaged trajectories.npz just has no replays."""
    from evaluation.html_report import write_html_report

    empty = write_html_report([tmp_path], tmp_path / "empty.html").read_text()
    assert "no results found" in empty and "<table>" not in empty
    write_policy(tmp_path / "expert", "expert", records([True]))
    (tmp_path / "expert" / "trajectories.npz").write_text("not a zip")
    page = write_html_report([tmp_path]).read_text()
    assert "not recorded" in page and "--replay" not in page and "Stage wall times" not in page


def test_the_page_in_headless_chromium(results, tmp_path):
    from selenium.webdriver.common.by import By

    assert compare.main([str(results), "--html"]) == 0
    driver = headless_chromium((1300, 900))
    try:
        driver.get((results / "report.html").as_uri())
        assert driver.title == "arena: paper test"
        first_table = driver.find_element(By.TAG_NAME, "table")
        cells = [
            row.find_elements(By.TAG_NAME, "td")
            for row in first_table.find_elements(By.CSS_SELECTOR, "tbody tr")
        ]
        assert [(c[0].text, c[2].text, c[4].text) for c in cells] == [
            ("expert", "-", "75.0%"), ("pignav", ODD, "40.0%"), ("random", "-", "0.0%")
        ]  # fmt: skip
        images = driver.execute_script(
            "return [...document.images].map(i => [i.getAttribute('src'), i.complete, i.naturalWidth])"
        )
        assert len(images) == 5, images  # three success plots, the expert's map and its GIF
        assert all(done and width > 0 for _, done, width in images), images
        # the episode list opens; its replay commands are there to copy
        details = driver.find_elements(By.TAG_NAME, "details")
        assert len(details) == 3 and not details[1].find_element(By.TAG_NAME, "code").is_displayed()
        details[1].find_element(By.TAG_NAME, "summary").click()
        assert details[1].find_element(By.TAG_NAME, "code").text.endswith("--episode 0 --viz viser")
        driver.save_screenshot(str(tmp_path / "report.png"))
    finally:
        driver.quit()
