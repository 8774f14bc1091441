"""The benchmark's bookkeeping: `make demo` stage times come from what each stage recorded."""

from __future__ import annotations

import json

import pytest

from evaluation.bench import demo_stages, markdown
from tools.collect import SCENE_DEFAULTS, record_time, recorded_sampling


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


def test_a_scene_dataset_records_how_its_episodes_were_sampled(tmp_path):
    assert recorded_sampling(tmp_path) == SCENE_DEFAULTS  # datasets from before the record: the defaults
    sampling = {"goal_heading": "arrival", "min_geodesic": 0.5}
    record_time(tmp_path, 3, 9.0, sampling)
    record_time(tmp_path, 2, 6.0, sampling)
    assert recorded_sampling(tmp_path) == sampling
    assert json.loads((tmp_path / "collection.json").read_text())["episodes"] == 5


@pytest.mark.parametrize(
    ("flags", "plan"),
    [([], "QUICK"), (["--profile", "quick"], "QUICK"), (["--profile", "paper", "--device", "cpu"], "FULL")],
)
def test_the_profile_flag_picks_the_plan(flags, plan, tmp_path, monkeypatch):
    from evaluation import bench

    asked = []
    monkeypatch.setattr(
        bench, "run_worker", lambda args, n, size, cold=False: asked.append((n, size, cold, args))
    )
    monkeypatch.setattr(bench, "demo_stages", lambda env: [])
    assert bench.main([*flags, "--out", str(tmp_path)]) == 1  # no worker ran: no results
    expected = getattr(bench, plan)
    assert [(n, size) for n, size, *_ in asked] == expected["configs"] + [(64, 64)] * len(expected["startup"])
    assert all(a.profile == (flags[1] if flags else "quick") and a.device == "cpu" for *_, a in asked)


@pytest.mark.parametrize(
    ("module", "flags", "message"),
    [
        ("bench", ["--quick"], "unrecognized arguments: --quick"),
        ("bench_policies", ["--quick"], "unrecognized arguments: --quick"),
        ("bench", ["--profile", "fast"], "invalid choice: 'fast'"),
        ("bench", ["--scaling", "--device", "cuda"], "--scaling measures the arena on the CPU"),
        ("bench", ["--scaling", "--env", "rooms"], "--scaling measures the arena on the CPU"),
    ],
)
def test_bench_flags_are_one_spelling_and_none_is_ignored(module, flags, message, capsys):
    import importlib

    with pytest.raises(SystemExit) as exit_info:
        importlib.import_module(f"evaluation.{module}").main(flags)
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_policy_benchmark_runs_at_the_quick_profile(tmp_path):
    from evaluation import bench_policies

    flags = ["--profile", "quick", "--device", "cpu", "--batches", "1", "--out", str(tmp_path)]
    assert bench_policies.main(flags) == 0
    rows = json.loads((tmp_path / "policies.json").read_text())["results"]
    assert {r["encoder"] for r in rows if r["policy"] == "pignav"} == {
        "vit-tiny/4 64px"
    }  # the quick size only
