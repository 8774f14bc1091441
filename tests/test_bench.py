"""The benchmark's bookkeeping: `make demo` stage times come from what each stage recorded."""

from __future__ import annotations

import json

from evaluation.bench import demo_stages, markdown
from tools.collect import record_time


def test_demo_stage_times_are_read_from_what_the_stages_recorded(tmp_path, monkeypatch):
    monkeypatch.setenv("GOALNAV_ROOT", str(tmp_path))
    (tmp_path / "runs/arena/pignav").mkdir(parents=True)
    (tmp_path / "runs/arena/pignav/train_summary.json").write_text(json.dumps({"train_seconds": 300.04}))
    (tmp_path / "results/arena/pignav").mkdir(parents=True)
    (tmp_path / "results/arena/pignav/summary.json").write_text(json.dumps({"wall_seconds": 120.0}))
    demos = tmp_path / "data/arena/demos"
    demos.mkdir(parents=True)
    record_time(demos, 10, 50.0)
    record_time(demos, 5, 25.0)  # a resumed collection adds up
    rows = demo_stages("arena")
    assert [(r["stage"], r["seconds"]) for r in rows] == [
        ("demonstration collection", 75.0), ("pignav training", 300.0), ("pignav evaluation", 120.0)
    ]  # fmt: skip
    assert json.loads((demos / "collection.json").read_text())["episodes"] == 15
    table = markdown([], {"cpu": "test"}, rows)
    assert "| total | 8.2 |" in table and "pignav training" in table
