#!/usr/bin/env bash
# Install the app's requirements into .venv and start the explorer on the shipped default model.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
exec .venv/bin/streamlit run app.py "$@"
