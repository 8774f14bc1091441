"""Static checks of the containers (no Docker engine needed): compose services, COPY sources, install path,
build arguments. `make docker-smoke` (docker/smoke.sh) builds and runs the kit-less image for real."""

from __future__ import annotations

import glob
import json
import os
import re
import shlex
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCKER = ROOT / "docker"
DOCKERFILES = ["Dockerfile", "Dockerfile.isaacsim"]
SERVICES = {"goalnav": "docker/Dockerfile", "goalnav-isaacsim": "docker/Dockerfile.isaacsim"}
ALL_SERVICES = {**SERVICES, "goalnav-cpu": "docker/Dockerfile"}


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


@pytest.mark.parametrize("service", ALL_SERVICES)
def test_service_mounts_project_dirs_and_caches(compose, service):
    env = env_vars(dockerfile(Path(ALL_SERVICES[service]).name))
    volumes = compose["services"][service]["volumes"]
    targets = {mount_target(v) for v in volumes}
    expected = {"/app/data", "/app/runs", "/app/results", env["HF_HOME"], env["WARP_CACHE_PATH"]}
    assert expected <= targets, expected - targets
    hf_source = next(v for v in volumes if isinstance(v, str) and v.endswith(":" + env["HF_HOME"]))
    assert "${HF_HOME:-" in hf_source  # the host's Hugging Face cache, where SigLIP / MAE weights live


def test_cpu_service_is_the_kit_less_image_without_a_gpu(compose):
    cpu, gpu = compose["services"]["goalnav-cpu"], compose["services"]["goalnav"]
    assert cpu["profiles"] == ["cpu"] and "deploy" not in cpu
    assert {k: v for k, v in cpu.items() if k != "profiles"} == {
        k: v for k, v in gpu.items() if k != "deploy"
    }


def test_project_mounts_follow_goalnav_workspace(compose):
    for name in ALL_SERVICES:
        sources = [v.rsplit(":", 1)[0] for v in compose["services"][name]["volumes"] if isinstance(v, str)]
        for folder in ("data", "runs", "results"):
            assert f"${{GOALNAV_WORKSPACE:-..}}/{folder}" in sources, (name, folder)


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


def build_args(text: str) -> dict[str, str]:
    """ARG name -> default."""
    return dict((args.split("=", 1) + [""])[:2] for keyword, args in instructions(text) if keyword == "ARG")


def test_kit_less_base_and_uv_are_build_args_defaulting_to_the_official_images():
    text = dockerfile("Dockerfile")
    args = build_args(text)
    assert args["BASE_IMAGE"].startswith("nvidia/cuda:") and args["BASE_IMAGE"].endswith("-ubuntu24.04")
    assert args["UV_IMAGE"].startswith("ghcr.io/astral-sh/uv:")
    froms = [a for k, a in instructions(text) if k == "FROM"]
    assert froms == ["${UV_IMAGE} AS uv", "${BASE_IMAGE}"]


@pytest.mark.parametrize("name", DOCKERFILES)
def test_dockerfile_needs_no_registry_for_its_frontend(name):
    # a "# syntax=" line makes BuildKit pull a frontend image, which fails where no registry is reachable
    assert not re.search(r"^#\s*syntax\s*=", dockerfile(name), re.MULTILINE | re.IGNORECASE)


@pytest.mark.parametrize("name", DOCKERFILES)
def test_dockerfile_copies_every_package_before_installing_the_project(name):
    include = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    packages = {pattern.rstrip("*") for pattern in include["include"]}
    copied = {src.split("/")[0] for src in copy_sources(dockerfile(name)) if src.endswith("/__init__.py")}
    assert packages == copied, f"missing {packages - copied}, extra {copied - packages}"
    assert packages == {p.parent.name for p in ROOT.glob("*/__init__.py")}  # every top-level package


def test_smoke_script_builds_this_dockerfile_with_local_images_and_runs_the_cpu_service():
    script = (DOCKER / "smoke.sh").read_text()
    assert os.access(DOCKER / "smoke.sh", os.X_OK)
    subprocess.run(["bash", "-n", str(DOCKER / "smoke.sh")], check=True)
    assert "-f docker/Dockerfile" in script
    for arg in ("BASE_IMAGE", "UV_IMAGE"):
        assert f"--build-arg {arg}=" in script and arg in build_args(dockerfile("Dockerfile"))
    assert "goalnav-cpu" in script and "--user 4321:4321" in script
    assert re.search(
        r"^docker-smoke:\n\tbash docker/smoke.sh$", (ROOT / "Makefile").read_text(), re.MULTILINE
    )


def test_dockerignore_keeps_local_state_out_of_the_build_context():
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".git", ".venv", "data", "runs", "results"} <= ignored
