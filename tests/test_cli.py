"""Command-line entry points: bad input gives one clear line and no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tools import drive

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--env", "mars"], "arena"),
        (["--layout", "circle"], "paper, random, mixed"),
        (["--num-envs", "0"], ">= 1"),
        (["--device", "cuda:7"], "cpu"),
        (["--device", "tpu"], "'cpu', 'cuda' or 'cuda:N'"),
    ],
)
def test_bad_env_arguments_name_the_valid_choices(args, names, capsys):
    with pytest.raises(SystemExit) as exit_info:
        drive.main(args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "error:" in err and names in err


def test_a_script_run_from_its_folder_reports_bad_input_without_traceback():
    proc = subprocess.run(
        [sys.executable, "tools/drive.py", "--env", "mars"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "drive.py: error: unknown env 'mars'; choose one of: arena, rooms, maze, halls"
    ]
