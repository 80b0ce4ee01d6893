#!/usr/bin/env bash
# Install the app's requirements into .venv and start the explorer on the shipped default model.
#
# Where it listens (the operator decides; loopback unless told otherwise):
#   VAE_EXPLORER_ADDRESS  address to bind, default 127.0.0.1 (0.0.0.0: every interface)
#   VAE_EXPLORER_PORT     port, default 8501
# Any further arguments go to `streamlit run` (e.g. --server.baseUrlPath explorer).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
exec .venv/bin/streamlit run app.py \
    --server.address "${VAE_EXPLORER_ADDRESS:-127.0.0.1}" \
    --server.port "${VAE_EXPLORER_PORT:-8501}" \
    "$@"
