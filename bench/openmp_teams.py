"""Why the app's torch work must not live in a long-lived thread: GNU OpenMP's spin-wait, measured.

A thread that runs a parallel torch operation gets an OpenMP team (its own worker threads) that lives as
long as the thread. GNU OpenMP counts every team's workers; once there are more than cores, all teams
spin only briefly between operations (its "throttled" spin), then sleep, and every later operation pays
to wake them. Training runs in a worker thread (explorer/jobs/queue.py), so one other thread with a
team, e.g. a main thread that loaded data with two torch threads, slows each of its operations.

Each case runs in a fresh process (a team, once made, lives as long as its thread):

- "alone": the timing thread is the only one with a team (as the app's trainer is: script runs and the
  warm-up end, and their teams with them);
- "beside a live team": the main thread ran a 2-thread operation first and lives on;
- "beside a team, passive": as alone, with OMP_WAIT_POLICY=passive (never spin): what throttling costs.

    python bench/openmp_teams.py

The table is appended to bench/results/openmp_teams-<date>-<cpu>.txt (bench/results.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.results import save  # noqa: E402

CHILD = r"""
import json, sys, threading, time
sys.path.insert(0, sys.argv[2])
import torch
if sys.argv[1] == "beside":
    torch.set_num_threads(2)
    torch.rand(1000, 1000).sum()  # a parallel operation: the main thread now has a team, and lives on
else:
    torch.set_num_threads(1)  # the main thread never makes a team
result = {}
def measure():
    torch.set_num_threads(2)
    a, b = torch.randn(256, 784), torch.rand(256, 784)
    h, w = torch.rand(256, 400), torch.randn(784, 400)
    def best(f, n=300):
        times = []
        for _ in range(5):
            t = time.perf_counter()
            for _ in range(n):
                f()
            times.append((time.perf_counter() - t) / n * 1e6)
        return min(times)
    best(lambda: a - b, 50)
    result["sub_us"] = best(lambda: a - b)
    result["sigmoid_us"] = best(lambda: torch.sigmoid(a))
    result["product_us"] = best(lambda: h @ w.t())
    # The lecture's VAE trained as the app trains it (vae/train_step.py's TrainStep and fused Adam), on
    # random images with MNIST's share of dark pixels: 100 steps at batch 256.
    from vae.config import ModelConfig
    from vae.model import VAE
    from vae.train_step import TrainStep
    model = VAE(ModelConfig(kind="vae", latent_dim=20))
    step = TrainStep(model)
    adam = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(256, 784, generator=g) * (torch.rand(256, 784, generator=g) < 0.19)
    def train_step():
        step(x)
        adam.step()
    result["step_ms"] = best(train_step, 100) / 1000
errors = []
def run():
    try:
        measure()
    except BaseException as exc:  # a thread's exception is only printed: hand it to the main thread
        errors.append(exc)
worker = threading.Thread(target=run)
worker.start()
worker.join()
if errors:
    raise errors[0]
print(json.dumps(result))
"""

CASES = {
    "alone": ("alone", {}),
    "beside a live team": ("beside", {}),
    "alone, OMP_WAIT_POLICY=passive": ("alone", {"OMP_WAIT_POLICY": "passive"}),
}


def main() -> None:
    lines: list[str] = []

    def say(line: str = "") -> None:
        print(line, flush=True)
        lines.append(line)

    say(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; µs per operation on [256, 784], 2 threads")
    say("| case | a − b | sigmoid | product 256×400 · 400×784 | training step, ms |")
    say("|---|---:|---:|---:|---:|")
    for name, (mode, env) in CASES.items():
        out = subprocess.run(
            [sys.executable, "-c", CHILD, mode, str(REPO)],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        say(f"| {name} | {r['sub_us']:.0f} | {r['sigmoid_us']:.0f} | {r['product_us']:.0f} | {r['step_ms']:.2f} |")
    save("openmp_teams", "\n".join(lines))


if __name__ == "__main__":
    main()
