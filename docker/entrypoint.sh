#!/usr/bin/env bash
# Runs any goalnav command (python ..., make ..., pytest) in the image's environment (/app/.venv).
set -euo pipefail
cd /app
source .venv/bin/activate
for dir in data runs results; do
    if [[ -e $dir && ! -w $dir ]]; then
        echo "warning: /app/$dir is not writable by uid $(id -u): create it on the host before the first" \
            "run (mkdir -p $dir) or run with --user \"\$(id -u):\$(id -g)\"" >&2
    fi
done
exec "$@"
