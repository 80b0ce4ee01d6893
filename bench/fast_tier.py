"""How long the fast tier takes: `pytest -m "not browser and not mnist"`, as a developer runs it before a commit.

    python bench/fast_tier.py --runs 3
    python bench/fast_tier.py --runs 1 --durations 25    # also the slowest tests of the last run

Each run is a fresh `python -m pytest … -q -p no:cacheprovider` from the repository root, with
pyproject's addopts (pytest-xdist, `-n auto`: one worker per core), so it pays the collection and the
workers' start as a developer does. Printed and saved (bench/results/fast_tier-<date>-<cpu>.txt): wall
seconds, tests passed/skipped/failed and the 1-minute load before and after each run. Issue 22's target:
≤ 30 s on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.results import save  # noqa: E402

TARGET_S = 30.0  # issue 22, on 2 cores
COMMAND = [sys.executable, "-m", "pytest", "-m", "not browser and not mnist", "-q", "-p", "no:cacheprovider"]


def counts(summary: str) -> dict[str, int]:
    """pytest's last line, e.g. '512 passed, 40 skipped in 21.3s', as {'passed': 512, 'skipped': 40}."""
    return {word: int(n) for n, word in re.findall(r"(\d+) (passed|failed|skipped|errors?|xfailed|xpassed)", summary)}


def one_run(durations: int) -> tuple[dict, str]:
    command = COMMAND + ([f"--durations={durations}"] if durations else [])
    load = os.getloadavg()[0]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    lines = done.stdout.strip().splitlines()
    summary = lines[-1] if lines else done.stderr.strip()[-300:]
    run = {"wall_s": round(wall, 2), "rc": done.returncode, "counts": counts(summary), "summary": summary}
    run |= {"load_before": round(load, 2), "load_after": round(os.getloadavg()[0], 2)}
    # pytest -q's short summary names each failure ("FAILED tests/...::test - why"): kept, so a flaky test is named.
    run["failures"] = [line[:300] for line in lines if line.startswith(("FAILED ", "ERROR "))]
    slowest = ""
    if durations:
        text = done.stdout
        start = text.find("slowest")
        slowest = text[text.rfind("=", 0, start) + 1 : text.find("\n=", start)].strip() if start >= 0 else ""
    return run, slowest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--durations", type=int, default=0, help="report the N slowest tests of the last run")
    args = parser.parse_args()

    runs, slowest = [], ""
    for index in range(args.runs):
        run, slowest = one_run(args.durations if index == args.runs - 1 else 0)
        runs.append(run)
        print(
            f"run {index + 1}: {run['wall_s']:.1f} s, {run['summary']} "
            f"(load {run['load_before']:.2f} → {run['load_after']:.2f})",
            flush=True,
        )
    walls = [run["wall_s"] for run in runs]
    verdict = "met" if statistics.median(walls) <= TARGET_S else "NOT met"
    lines = [
        f"$ {' '.join(['python', *COMMAND[1:4], repr(COMMAND[4]), *COMMAND[5:]])}   (pyproject addopts: -n auto)",
        "",
        f"{'run':>3} {'wall s':>7} {'passed':>6} {'skipped':>7} {'failed':>6}  load 1-min before → after",
        *(
            f"{i + 1:>3} {r['wall_s']:>7.1f} {r['counts'].get('passed', 0):>6} {r['counts'].get('skipped', 0):>7} "
            f"{r['counts'].get('failed', 0) + r['counts'].get('error', 0) + r['counts'].get('errors', 0):>6}  "
            f"{r['load_before']:.2f} → {r['load_after']:.2f}"
            for i, r in enumerate(runs)
        ),
        "",
        f"median {statistics.median(walls):.1f} s, min {min(walls):.1f} s, max {max(walls):.1f} s; "
        f"target (issue 22) ≤ {TARGET_S:g} s on 2 cores: {verdict}",
    ]
    failures = [f"run {i + 1}: {line}" for i, r in enumerate(runs) for line in r["failures"]]
    if failures:
        lines += ["", "failures:", *failures]
    if slowest:
        lines += ["", f"slowest tests of run {len(runs)}:", slowest]
    text = "\n".join(lines)
    print("\n" + text)
    save("fast_tier", text)


if __name__ == "__main__":
    main()
