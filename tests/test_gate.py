"""The regression gate (evaluation/gate.py): a figure outside its band fails with one line naming it, and
the committed arena reference is well formed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evaluation import gate

ROOT = Path(__file__).resolve().parents[1]


def write_summary(results: Path, policy: str, **figures) -> None:
    (results / policy).mkdir(parents=True, exist_ok=True)
    summary = {"policy": policy, "env": "arena", "layout": "paper", "split": "test", **figures}
    (results / policy / "summary.json").write_text(json.dumps(summary))


@pytest.fixture
def reference(tmp_path) -> Path:
    path = tmp_path / "reference.json"
    checks = [
        {
            "policy": "expert",
            "metric": "success_rate",
            "min": 0.97,
            "max": 1.0,
            "reference": 0.99,
            "why": "t",
        },
        {
            "policy": "pignav",
            "metric": "success_rate",
            "min": 0.86,
            "max": 1.0,
            "reference": 0.92,
            "why": "t",
        },
    ]
    path.write_text(json.dumps({"env": "arena", "layout": "paper", "split": "test", "checks": checks}))
    return path


def test_results_inside_their_bands_pass(tmp_path, reference, capsys):
    write_summary(tmp_path / "arena", "expert", success_rate=0.99)
    write_summary(tmp_path / "arena", "pignav", success_rate=0.91)
    assert gate.main([str(tmp_path / "arena"), "--reference", str(reference)]) == 0
    assert "2 of 2 figures within their bands" in capsys.readouterr().out


def test_a_figure_outside_its_band_fails_with_one_line_naming_it(tmp_path, reference, capsys):
    write_summary(tmp_path / "arena", "expert", success_rate=0.99)
    write_summary(tmp_path / "arena", "pignav", success_rate=0.30)
    assert gate.main([str(tmp_path / "arena"), "--reference", str(reference)]) == 1
    failures = [line for line in capsys.readouterr().err.splitlines() if line.startswith("FAIL")]
    assert failures == [
        f"FAIL pignav success_rate 30.0% outside its band [86.0%, 100.0%] (reference 92.0%, {reference})"
    ]


def test_missing_results_and_other_episode_sets_fail(tmp_path, reference, capsys):
    write_summary(tmp_path / "arena", "expert", success_rate=0.99, layout="random")
    assert gate.main([str(tmp_path / "arena"), "--reference", str(reference)]) == 1
    err = capsys.readouterr().err
    assert "FAIL expert: results are for {'layout': 'random'}" in err
    assert "FAIL pignav success_rate: no results at" in err


def test_bad_references_are_one_line_errors(tmp_path, capsys):
    (tmp_path / "arena").mkdir()
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps({"checks": [{"policy": "x", "metric": "spl", "min": 0.9, "max": 0.1, "why": ""}]})
    )
    for path, message in [(bad, "has min 0.9 > max 0.1"), (tmp_path / "none.json", "no reference file")]:
        with pytest.raises(SystemExit) as exit_:
            gate.main([str(tmp_path / "arena"), "--reference", str(path)])
        assert exit_.value.code == 2 and message in capsys.readouterr().err


def test_the_committed_arena_reference_is_well_formed():
    reference = gate.load_reference(ROOT / gate.REFERENCES / "arena.json")
    assert {c["policy"] for c in reference["checks"]} >= {"expert", "siglip_bc", "pignav"}
    for check in reference["checks"]:
        assert check["why"].strip(), f"the {check['policy']} band gives no reason"
        assert check["min"] <= check.get("reference", check["min"]) <= check["max"]
