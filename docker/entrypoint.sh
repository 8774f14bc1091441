#!/usr/bin/env bash
# Runs any goalnav command (python ..., make ..., pytest) in the image's environment (/app/.venv).
set -euo pipefail
cd /app
source .venv/bin/activate
uid=$(id -u)
# One Warp kernel cache per user: Warp writes it with the running user's permissions, so under another
# --user a cache that uid 1000 made is read-only and every new kernel fails (PermissionError).
if [[ -n ${WARP_CACHE_PATH:-} ]]; then
    export WARP_CACHE_PATH=$WARP_CACHE_PATH/uid-$uid
    mkdir -p "$WARP_CACHE_PATH" 2>/dev/null \
        || echo "warning: cannot create $WARP_CACHE_PATH; Warp kernels compile on every run" >&2
fi
# A uid without an account here gets HOME=/, which it cannot write (matplotlib, torch and pip caches).
if [[ ! -w ${HOME:-/} ]]; then
    export HOME=/tmp/home-$uid
    mkdir -p "$HOME"
fi
for dir in data runs results; do
    if [[ -e $dir && ! -w $dir ]]; then
        echo "warning: /app/$dir is not writable by uid $(id -u): create it on the host before the first" \
            "run (mkdir -p $dir) or run with --user \"\$(id -u):\$(id -g)\"" >&2
    fi
done
exec "$@"
