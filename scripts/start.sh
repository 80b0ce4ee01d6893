#!/usr/bin/env bash
# Install the app's requirements into .venv, fetch MNIST once per machine (the Train view needs the training
# split), and start the explorer on the shipped default model.
#
# Where it listens (the operator decides; loopback unless told otherwise):
#   VAE_EXPLORER_ADDRESS  address to bind, default 127.0.0.1 (0.0.0.0: every interface)
#   VAE_EXPLORER_PORT     port, default 8501
# Any further arguments go to `streamlit run` (e.g. --server.baseUrlPath explorer).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check --no-compile -r requirements.txt  # as scripts/test.sh
# Both splits, MD5-checked, into $VAE_DATA_DIR or ~/.cache/vae-latent-explorer/data; a no-op once there.
# Without it every view but "Train a model" works, and that view says which command to run.
.venv/bin/python -m vae data || echo "start.sh: MNIST could not be fetched (above); training in the app needs it" >&2
# The operator's settings (VAE_*; docs/serving.md): a bad value stops here, in one line.
.venv/bin/python -m explorer.settings
# glibc gives threads (Streamlit runs each session's script in one) their own malloc arenas and keeps
# their freed pages: two arenas let the memory of sessions that left go back (bench/load.py --tour).
# A fixed mmap threshold maps every buffer of 1 MiB or more (weights, uploads, a map's arrays) on its own
# and hands it back when freed, where the arenas kept and fragmented them: a session of twenty 19 MB
# uploads peaks far lower and its memory comes back; its map jobs run a little slower
# (bench/session_memory.py, bench/malloc_threshold.py; docs/performance.md, Memory).
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
export MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-1048576}"
exec .venv/bin/streamlit run app.py \
    --server.address "${VAE_EXPLORER_ADDRESS:-127.0.0.1}" \
    --server.port "${VAE_EXPLORER_PORT:-8501}" \
    "$@"
