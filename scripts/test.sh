#!/usr/bin/env bash
# Install everything the tests need on a fresh machine, then run lint and the whole suite.
# Debian's chromium is used by the browser test (Playwright drives it; no browser download), Debian's nginx
# by the deployment test (tests/deploy/test_deploy.py: two replicas behind deploy/nginx/), Debian's
# PostgreSQL by the class store's tests (a server started in a temporary folder, harness/postgres.py), and
# npm for axe-core, the accessibility check the browser tests inject.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium fonts-dejavu-core)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null || missing+=(postgresql)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then apt_get="apt-get"; else apt_get="sudo apt-get"; fi
    $apt_get update -qq
    DEBIAN_FRONTEND=noninteractive $apt_get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python3 -m venv .venv
# --no-compile: Python compiles what is imported, when first imported; pip compiling every file of every
# package (torch's tests and all) took 40 % of the install.
.venv/bin/pip install -q --disable-pip-version-check --no-compile -r requirements-dev.txt
.venv/bin/pip install -q --disable-pip-version-check --no-compile --no-deps -e .
# axe-core, pinned in package.json and package-lock.json: the browser tests inject it into the page for the
# accessibility check (tests/browser/test_phone.py); node and npm come with the machine.
npm ci --no-audit --no-fund --loglevel=error

# The real MNIST is fetched once per machine, not once per clone.
export VAE_DATA_DIR="${VAE_DATA_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vae-latent-explorer/data}"
# Before the tests: the servers the browser tests start read the test split as they start (a no-op once
# it is there; without it, on a machine that never ran scripts/start.sh, those tests failed).
.venv/bin/python -m vae data

.venv/bin/ruff check .
.venv/bin/ruff format --check .
# Everything, on one worker more than the machine has cores, sharing the queue (worksteal): a browser test
# spends much of its time waiting on its server and its browser, and the extra worker fills those waits
# (docs/testing.md). The 25 slowest are named at the end.
.venv/bin/python -m pytest -q --run-slow -n "$(( $(nproc) + 1 ))" --dist worksteal --durations=25 "$@"
