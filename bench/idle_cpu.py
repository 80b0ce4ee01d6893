"""Does an idle explorer server stay idle? CPU share of `bash scripts/start.sh` with nobody using it.

Starts the server exactly as the README's set-up does (scripts/start.sh: creates .venv inside the repository,
installs the requirements, `streamlit run app.py`), waits until /_stcore/health answers, lets it settle,
then reads its CPU time from /proc/PID/stat over `--seconds`: first with no session, then with one
connected session that does nothing (a browser tab left open: websocket pings only). Arguments after `--`
go to start.sh, e.g. `-- --server.fileWatcherType auto` for the watcher's cost.

    .venv/bin/python bench/idle_cpu.py                     # the shipped config, 60 s each
    .venv/bin/python bench/idle_cpu.py -- --server.fileWatcherType auto

Appends to bench/results/idle_cpu-<date>-<cpu>.json (bench/results.py). Target: < 1 % of a core.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from load_client import StreamlitUser  # noqa: E402
from load_meter import cpu_seconds, load_average, rss_mb  # noqa: E402

from bench.results import log_dir, save  # noqa: E402


def wait_healthy(url: str, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"scripts/start.sh exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.read().strip() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} not healthy within {timeout:.0f} s")


def cpu_share(pid: int, seconds: float) -> float:
    """Percent of one core the process used over the next `seconds`."""
    cpu0, wall0 = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return 100 * (cpu_seconds(pid) - cpu0) / (time.monotonic() - wall0)


async def with_idle_session(url: str, pid: int, seconds: float) -> float:
    async with StreamlitUser(url) as user:
        await user.run(timeout=180)
        await asyncio.sleep(5)  # the run's aftermath (caches, thread pools) settles
        return await asyncio.to_thread(cpu_share, pid, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--port", type=int, default=int(os.environ.get("VAE_EXPLORER_PORT", "8650")))
    parser.add_argument("--settle", type=float, default=10.0, help="seconds after start before measuring")
    parser.add_argument("start_args", nargs="*", help="passed on to scripts/start.sh (after --)")
    args = parser.parse_args()
    url = f"http://127.0.0.1:{args.port}"
    log_path = log_dir() / "idle_cpu_server.log"
    env = {**os.environ, "VAE_EXPLORER_PORT": str(args.port), "VAE_EXPLORER_ADDRESS": "127.0.0.1"}
    with open(log_path, "wb") as log:
        # start.sh execs streamlit: the shell's pid becomes the server's. Own process group: stopped as one.
        process = subprocess.Popen(
            ["bash", "scripts/start.sh", *args.start_args],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_healthy(url, process, timeout=900)  # the first start installs the requirements
            time.sleep(args.settle)
            result = {
                "start_args": args.start_args,
                "seconds": args.seconds,
                "idle_cpu_percent": cpu_share(process.pid, args.seconds),
                "idle_with_session_cpu_percent": asyncio.run(with_idle_session(url, process.pid, args.seconds)),
                "rss_mb": rss_mb(process.pid),
                "load_average": load_average(),
            }
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(15)
    result["server_log_lines"] = len(log_path.read_text(errors="replace").splitlines())
    print(json.dumps(result, indent=1))
    save("idle_cpu", result)  # start.sh's arguments are in the result (start_args)


if __name__ == "__main__":
    main()
