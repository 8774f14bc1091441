#!/usr/bin/env bash
# Builds the kit-less image (docker/Dockerfile) on a machine that reaches no image registry, then runs
# it the way docker/README.md says: through docker/compose.yaml (CPU profile), as the image's non-root
# user, with the data/runs/results volumes mounted. Checks that the results reach the host with the
# right owner. Run as root on Debian with the Debian mirror and PyPI reachable: `make docker-smoke`.
#
#   docker/smoke.sh [--rebuild-base]
#
# 1. local base images, made once (reused until --rebuild-base):
#    goalnav-local/bookworm-py312  debootstrap --variant=minbase bookworm + the build's apt packages +
#                                   the host's Python 3.12 (pyenv's, or $GOALNAV_PYTHON) in /usr/local
#    goalnav-local/uv:VERSION      /uv and /uvx from PyPI's uv wheel, the version docker/Dockerfile names
# 2. docker/Dockerfile built with --build-arg BASE_IMAGE=... UV_IMAGE=... (timed; the image size printed)
# 3. in a scratch workspace ($SMOKE_DIR, default /tmp/goalnav-smoke) owned by uid 1000:
#    a short evaluation and a subset of the tests, then an evaluation under another --user
# Heavy steps run under `nice -n 15`. Logs and timings go to $SMOKE_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
SMOKE_DIR=${SMOKE_DIR:-/tmp/goalnav-smoke}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
BASE=goalnav-local/bookworm-py312:latest
IMAGE=goalnav:latest
NICE=(nice -n 15)
# the shared libraries a pyenv-built CPython 3.12 links against (ssl, sqlite3, ctypes, curses, uuid, ...)
PYTHON_LIBS=libffi8,libsqlite3-0,libssl3,libncursesw6,libuuid1,libnsl2,libbz2-1.0,liblzma5,zlib1g,libreadline8
REBUILD_BASE=0
[[ ${1:-} == --rebuild-base ]] && REBUILD_BASE=1
mkdir -p "$SMOKE_DIR"
say() { echo "== $*"; }
remove_rootfs() {  # debootstrap can leave /proc mounted in the tree: unmount first, never cross into it
    local mounts
    mounts=$(findmnt -rn -o TARGET | grep "^$1/" | sort -r || true)
    [[ -z $mounts ]] || umount -l $mounts
    rm -rf --one-file-system "$1"
}
fail() { echo "docker/smoke.sh: error: $*" >&2; exit 1; }

[[ $(id -u) == 0 ]] || fail "run as root (it installs packages, starts dockerd and runs debootstrap)"

# --- tools: Docker engine, debootstrap, Compose -------------------------------------------------------
need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v debootstrap >/dev/null || need+=(debootstrap)
docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null || need+=(docker-compose)
if ((${#need[@]})); then
    say "installing ${need[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
if ! docker info >/dev/null 2>&1; then
    say "starting dockerd (log: $SMOKE_DIR/dockerd.log)"
    # niced: builds and containers run under it, beside other work on the machine
    nohup "${NICE[@]}" dockerd >"$SMOKE_DIR/dockerd.log" 2>&1 &
    for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
    docker info >/dev/null 2>&1 || fail "dockerd did not start; see $SMOKE_DIR/dockerd.log"
fi
# A client that builds with BuildKit (the Dockerfile uses cache mounts): buildx if present, else Debian's
# docker.io client (20.10 has BuildKit built in; a newer client without buildx refuses).
if docker buildx version >/dev/null 2>&1; then
    build=(docker buildx build --load)
elif [[ -x /usr/bin/docker ]]; then
    build=(env DOCKER_BUILDKIT=1 /usr/bin/docker build)
else
    fail "no docker client that builds with BuildKit (install docker-buildx or docker.io)"
fi
if docker compose version >/dev/null 2>&1; then compose=(docker compose); else compose=(docker-compose); fi
compose+=(-f docker/compose.yaml --profile cpu)

# --- 1. local base images ------------------------------------------------------------------------------
uv_version=$(sed -n 's|^ARG UV_IMAGE=.*uv:\([0-9.]*\).*|\1|p' docker/Dockerfile)
[[ -n $uv_version ]] || fail "no uv version in docker/Dockerfile's ARG UV_IMAGE"
UV_LOCAL=goalnav-local/uv:$uv_version
python=${GOALNAV_PYTHON:-$(ls -d /root/.pyenv/versions/3.12*/bin/python3.12 2>/dev/null | sort -V | tail -1)}
python=${python:-$(command -v python3.12 || true)}
[[ -x $python ]] || fail "Python 3.12 not found for the base image; set GOALNAV_PYTHON=/path/to/python3.12"

if ((REBUILD_BASE)) || ! docker image inspect "$BASE" >/dev/null 2>&1; then
    rootfs=$SMOKE_DIR/rootfs
    remove_rootfs "$rootfs"
    say "debootstrap bookworm from $MIRROR (log: $SMOKE_DIR/debootstrap.log)"
    # the packages docker/Dockerfile installs, so its apt-get step finds them in place
    "${NICE[@]}" debootstrap --variant=minbase \
        --include=ca-certificates,make,git,libgl1,libegl1,libglib2.0-0,libgomp1,$PYTHON_LIBS \
        bookworm "$rootfs" "$MIRROR" >"$SMOKE_DIR/debootstrap.log" 2>&1 \
        || fail "debootstrap failed; see $SMOKE_DIR/debootstrap.log"
    trap 'remove_rootfs "$rootfs"' EXIT
    prefix=$("$python" -c 'import sys; print(sys.base_prefix)')
    say "Python $("$python" -c 'import platform; print(platform.python_version())') from $prefix -> /usr/local"
    # the interpreter and its standard library, without the host's site-packages; libpython through ldconfig
    tar -C "$prefix" --exclude='lib/python3.12/site-packages/*' --exclude='lib/python3.12/test' \
        --exclude='__pycache__' -cf - bin/python3.12 lib include | tar -C "$rootfs/usr/local" -xf -
    chroot "$rootfs" ldconfig
    chroot "$rootfs" /usr/local/bin/python3.12 -c 'import ssl, sqlite3, ctypes, curses, uuid, lzma, bz2, zlib, venv' \
        || fail "the copied Python 3.12 does not run in the base image"
    # the host's extra CA certificates (a TLS-terminating proxy, where there is one) for apt and uv
    if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
        cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
        chroot "$rootfs" update-ca-certificates >/dev/null
    fi
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb
    say "docker import -> $BASE"
    tar -C "$rootfs" -c . | docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
        --change 'CMD ["bash"]' - "$BASE" >/dev/null
    remove_rootfs "$rootfs"
    trap - EXIT
fi
if ((REBUILD_BASE)) || ! docker image inspect "$UV_LOCAL" >/dev/null 2>&1; then
    say "uv $uv_version from PyPI -> $UV_LOCAL"
    ctx=$SMOKE_DIR/uv
    rm -rf "$ctx" && mkdir -p "$ctx"
    "$python" -m pip download --quiet --no-deps --only-binary=:all: --platform manylinux_2_17_x86_64 \
        "uv==$uv_version" -d "$ctx"
    "$python" - "$ctx" <<'EOF'
import sys, zipfile, pathlib
ctx = pathlib.Path(sys.argv[1])
(wheel,) = ctx.glob("uv-*.whl")
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.endswith(("/scripts/uv", "/scripts/uvx")):
            target = ctx / pathlib.Path(name).name
            target.write_bytes(z.read(name))
            target.chmod(0o755)
EOF
    printf 'FROM scratch\nCOPY uv uvx /\n' >"$ctx/Dockerfile"
    "${build[@]}" -q -t "$UV_LOCAL" "$ctx" >/dev/null
fi

# --- 2. the image, from the same Dockerfile a GPU server builds -----------------------------------------
say "building $IMAGE (log: $SMOKE_DIR/build.log)"
start=$(date +%s)
"${build[@]}" --progress=plain -f docker/Dockerfile --build-arg BASE_IMAGE="$BASE" \
    --build-arg UV_IMAGE="$UV_LOCAL" -t "$IMAGE" . >"$SMOKE_DIR/build.log" 2>&1 \
    || { tail -30 "$SMOKE_DIR/build.log"; fail "the build failed; see $SMOKE_DIR/build.log"; }
build_s=$(($(date +%s) - start))
size=$(docker image inspect -f '{{.Size}}' "$IMAGE")
say "built in ${build_s} s; image size $((size / 1000000)) MB ($(docker image inspect -f '{{.Size}}' "$BASE" | awk '{printf "%d", $1/1e6}') MB of it the base)"

# --- 3. run it through compose, as the non-root user, with the volumes mounted ------------------------
workspace() {  # a scratch host workspace owned by $1, as a host user's checkout would be
    rm -rf "$1" && mkdir -p "$1"/{data,runs,results,huggingface} && chown -R "$2" "$1"
}
run() {  # compose run in workspace $1, then the command
    local ws=$1; shift
    GOALNAV_WORKSPACE=$ws HF_HOME=$ws/huggingface "${NICE[@]}" "${compose[@]}" run --rm "$@"
}
check_owner() {  # every file under $1 belongs to uid $2
    local wrong
    wrong=$(find "$1" ! -uid "$2" -printf '%u:%g %p\n' | head -5)
    [[ -z $wrong ]] || fail "files not owned by uid $2 on the host: $wrong"
}
ws=$SMOKE_DIR/workspace-1000
workspace "$ws" 1000:1000
say "evaluation as the image's user (uid 1000)"
start=$(date +%s)
run "$ws" goalnav-cpu python evaluation/run.py --policy random --env arena --episodes 4 --num-envs 2 \
    --no-plots | tee "$SMOKE_DIR/eval-1000.log"
eval_s=$(($(date +%s) - start))
summary=$ws/results/arena/random/summary.json
[[ -f $summary ]] || fail "no $summary on the host"
grep -q '"episodes": 4' "$summary" || fail "$summary does not hold 4 episodes"
check_owner "$ws/results" 1000
say "tests in the container"
start=$(date +%s)
run "$ws" goalnav-cpu python -m pytest -q -p no:cacheprovider tests/test_layers.py tests/test_cli.py \
    tests/test_metrics.py tests/test_docker.py | tee "$SMOKE_DIR/tests.log"
tests_s=$(($(date +%s) - start))

ws2=$SMOKE_DIR/workspace-4321
workspace "$ws2" 4321:4321
say "evaluation with a video under --user 4321:4321 (a host user whose uid is not the image's)"
# the cameras need Warp kernels the first evaluation did not compile: they must compile under this uid too
start=$(date +%s)
run "$ws2" --user 4321:4321 goalnav-cpu python evaluation/run.py --policy random --env arena --episodes 2 \
    --num-envs 2 --no-plots --video | tee "$SMOKE_DIR/eval-4321.log"
video_s=$(($(date +%s) - start))
[[ -f $ws2/results/arena/random/summary.json && -f $ws2/results/arena/random/video.gif ]] \
    || fail "no results or video under --user 4321"
check_owner "$ws2/results" 4321

cat >"$SMOKE_DIR/timings.txt" <<EOF
date: $(date -u +%FT%TZ)
build_seconds: $build_s
image_bytes: $size
evaluation_seconds: $eval_s
tests_seconds: $tests_s
video_evaluation_seconds_uid_4321: $video_s
EOF
say "passed: build ${build_s} s, image $((size / 1000000)) MB, evaluation ${eval_s} s, tests ${tests_s} s," \
    "evaluation with video as uid 4321 ${video_s} s" \
    "($SMOKE_DIR/timings.txt)"
