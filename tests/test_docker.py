"""Static checks of the containers (no Docker engine needed): compose services, COPY sources, install path."""

from __future__ import annotations

import glob
import json
import os
import re
import shlex
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCKER = ROOT / "docker"
DOCKERFILES = ["Dockerfile", "Dockerfile.isaacsim"]
SERVICES = {"goalnav": "docker/Dockerfile", "goalnav-isaacsim": "docker/Dockerfile.isaacsim"}


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile: continuation lines joined, comments and blank lines dropped."""
    result, current = [], ""
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        keyword, _, args = (current + line).strip().partition(" ")
        result.append((keyword.upper(), args.strip()))
        current = ""
    return result


def copy_sources(text: str) -> list[str]:
    """Build-context paths read by COPY/ADD (shell or JSON form, any flags); COPY --from reads none."""
    sources = []
    for keyword, args in instructions(text):
        if keyword not in ("COPY", "ADD"):
            continue
        flags, rest = re.match(r"((?:--\S+\s+)*)(.*)", args).groups()
        if any(flag.startswith("--from") for flag in flags.split()):
            continue
        words = json.loads(rest) if rest.startswith("[") else shlex.split(rest)
        sources += words[:-1]  # the last word is the destination
    return sources


def missing_sources(text: str, root: Path = ROOT) -> list[str]:
    return [src for src in copy_sources(text) if not glob.glob(str(root / src))]


def env_vars(text: str) -> dict[str, str]:
    env = {}
    for keyword, args in instructions(text):
        if keyword == "ENV":
            env.update(word.split("=", 1) for word in shlex.split(args) if "=" in word)
    return env


def mount_target(volume: str | dict) -> str:
    if isinstance(volume, dict):
        return volume["target"]
    return re.sub(r"\$\{[^}]*\}", "VAR", volume).split(":")[1]  # ${X:-default} holds a colon


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DOCKER / "compose.yaml").read_text())


def dockerfile(name: str) -> str:
    return (DOCKER / name).read_text()


def test_compose_defines_both_services_built_from_the_repo_root(compose):
    assert set(SERVICES) <= set(compose["services"])
    for name, path in SERVICES.items():
        build = compose["services"][name]["build"]
        assert (DOCKER / build["context"]).resolve() == ROOT, name
        assert build["dockerfile"] == path and (ROOT / path).is_file(), name


@pytest.mark.parametrize("service", SERVICES)
def test_service_reserves_an_nvidia_gpu(compose, service):
    devices = compose["services"][service]["deploy"]["resources"]["reservations"]["devices"]
    assert any(d["driver"] == "nvidia" and "gpu" in d["capabilities"] for d in devices)


@pytest.mark.parametrize("service", SERVICES)
def test_service_mounts_project_dirs_and_caches(compose, service):
    env = env_vars(dockerfile(Path(SERVICES[service]).name))
    volumes = compose["services"][service]["volumes"]
    targets = {mount_target(v) for v in volumes}
    expected = {"/app/data", "/app/runs", "/app/results", env["HF_HOME"], env["WARP_CACHE_PATH"]}
    assert expected <= targets, expected - targets
    hf_source = next(v for v in volumes if isinstance(v, str) and v.endswith(":" + env["HF_HOME"]))
    assert "${HF_HOME:-" in hf_source  # the host's Hugging Face cache, where SigLIP / MAE weights live


def test_isaacsim_service_is_opt_in_and_publishes_livestream_ports(compose):
    service = compose["services"]["goalnav-isaacsim"]
    assert service["profiles"] == ["isaacsim"]
    assert "profiles" not in compose["services"]["goalnav"]  # the kit-less service is the default
    assert {"49100:49100/tcp", "47998:47998/udp"} <= set(service["ports"])


@pytest.mark.parametrize("name", DOCKERFILES)
def test_dockerfile_copies_only_existing_paths(name):
    sources = copy_sources(dockerfile(name))
    assert "pyproject.toml" in sources and "uv.lock" in sources and "Makefile" in sources
    assert missing_sources(dockerfile(name)) == []
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert not [src for src in sources if src.strip("/").split("/")[0] in ignored]


def test_copy_parser_reports_a_missing_path():
    text = (
        "FROM x AS base\n"
        "COPY --from=uv /uv /uvx /usr/local/bin/\n"
        "COPY --chown=a:a pyproject.toml \\\n"
        "    uv.lock no_such_file.txt ./\n"
        'COPY --chmod=755 ["docker/entrypoint.sh", "no_such_dir/", "/app/"]\n'
        "ADD assets/ assets/\n"
    )
    assert copy_sources(text) == [
        "pyproject.toml",
        "uv.lock",
        "no_such_file.txt",
        "docker/entrypoint.sh",
        "no_such_dir/",
        "assets/",
    ]
    assert missing_sources(text) == ["no_such_file.txt", "no_such_dir/"]


@pytest.mark.parametrize("name", DOCKERFILES)
def test_dockerfile_installs_with_make_setup_like_ci(name):
    assert re.search(r"^make setup$", (ROOT / ".ci/run").read_text(), re.MULTILINE)
    runs = [args for keyword, args in instructions(dockerfile(name)) if keyword == "RUN"]
    assert any(re.search(r"\bmake setup\b", run) for run in runs)
    assert not any("uv sync" in run for run in runs)  # the environment comes from the Makefile only


@pytest.mark.parametrize("name", DOCKERFILES)
def test_image_runs_as_non_root_through_the_entrypoint(name):
    steps = instructions(dockerfile(name))
    users = [args for keyword, args in steps if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    entrypoint = json.loads(next(args for keyword, args in steps if keyword == "ENTRYPOINT"))
    assert entrypoint == ["/app/docker/entrypoint.sh"]
    assert os.access(DOCKER / "entrypoint.sh", os.X_OK)


def test_dockerignore_keeps_local_state_out_of_the_build_context():
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".git", ".venv", "data", "runs", "results"} <= ignored
