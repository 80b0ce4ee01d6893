"""Training from the app, timed as the app runs it: a job in the queue's worker thread while a poller draws
the live views, then the trained model's map; and how long other users' script runs take meanwhile.

1. `--epochs` (default 10) of the lecture's VAE (d = 20, β = 1, Adam 1e-3, batch 256 as in its notebook;
   `--batch 128` is pytorch/examples') through JobQueue + train_job (explorer/jobs/training.py), with
   a poller that does what the Train view does: read the job every 0.5 s, and build and serialise the
   loss, panel and bubble figures once per epoch.
   Target: ≤ 20 s from submit to the last epoch on this machine's 2 cores. Each run also prints what the
   same epochs' matrix products alone take at that moment (products_floor): the machine's speed drifts.
2. The result's map with the chosen method (vae/quick_map.py): target ≤ 10 s.
3. Other users: the slider view's script run (AppTest, as bench/app_speed.py times it) while no job runs,
   and while one trains with 1 or 2 torch threads (VAE_TRAIN_THREADS).

    VAE_DATA_DIR=~/.cache/vae-latent-explorer/data python bench/train_live.py

The lines are appended to bench/results/train_live-<date>-<cpu>.txt (bench/results.py).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))


from bench.results import save  # noqa: E402
from explorer.jobs.queue import JobQueue, JobState  # noqa: E402
from explorer.jobs.training import LECTURE_BATCH, SharedData, TrainingProgress, TrainSettings, train_job  # noqa: E402
from explorer.service.jobs import warm_up_trainer  # noqa: E402
from explorer.ui.figures import bubbles_figure, loss_figure, panel_figure  # noqa: E402
from vae.data import load_mnist  # noqa: E402


def draw(view, epochs: int, labels) -> None:
    """The Train view's page run for a new epoch: build and serialise the three figures."""
    done = view.progress
    figures = [loss_figure(list(done.history), max_epoch=epochs)]
    if done.panels:
        figures.append(panel_figure(list(done.panels)))
    if done.codes:
        mu, logvar = done.codes[-1][1]
        figures.append(bubbles_figure(mu, logvar, labels[: len(mu)]))
    for figure in figures:
        figure.to_json()


def train_once(data: SharedData, settings: TrainSettings, folder: Path, threads: int | None, poll_s: float) -> dict:
    queue = JobQueue(lambda job: train_job(job, data, folder, threads), limit=1)
    labels = data.test.labels.numpy()
    started, started_cpu = time.perf_counter(), time.process_time()
    job = queue.submit("bench", settings)
    draws, drawn = [], None
    # As the view does: read the job every poll (progress), redraw the figures when an epoch is new.
    while not (view := queue.view(job.id)).finished:
        if view.progress is not None and view.progress.epoch != drawn:
            began = time.perf_counter()
            draw(view, settings.epochs, labels)
            draws.append(time.perf_counter() - began)
            drawn = view.progress.epoch
        time.sleep(poll_s)
    queue.join()
    total, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    view = queue.view(job.id)
    assert view.state is JobState.DONE, view.message
    return {
        "total_s": total,
        "cpu_s": cpu,
        "epoch_s": [h["seconds"] for h in view.progress.history[1:]],
        "test_total": view.progress.history[-1]["test"]["total"],
        "draw_ms": statistics.median(draws) * 1000 if draws else 0.0,
        "result": view.result,
    }


def slider_latency(data: SharedData, folder: Path, threads: int | None, runs: int) -> tuple[float, float]:
    """Median and 90th percentile of the slider view's script run (AppTest, as bench/app_speed.py
    times it), alone when threads is None, else while a 50-epoch job trains on `threads` torch threads."""
    from app_speed import slider_reruns

    queue = JobQueue(lambda job: train_job(job, data, folder, threads), limit=1)
    job = None
    if threads is not None:
        job = queue.submit("bench", TrainSettings(latent_dim=20, epochs=50))
        while (queue.view(job.id).progress or TrainingProgress()).epoch < 1:  # past epoch 0's evaluation
            time.sleep(0.1)
    try:
        samples = sorted(slider_reruns(runs)["rerun_s"])
    finally:
        if job is not None:
            queue.cancel(job.id)
            queue.join()
    return statistics.median(samples) * 1000, samples[int(0.9 * (len(samples) - 1))] * 1000


def map_seconds(checkpoint: Path) -> tuple[float, float]:
    """As the app's map job (explorer/jobs/maps.py): (seconds until the map is written and
    shown, seconds more for the per-image scores the digit view's percentiles use)."""
    from vae.atlas import add_scores, build_atlas
    from vae.quick_map import quick_map_2d

    started = time.perf_counter()
    build_atlas(checkpoint, mapper=quick_map_2d, log=lambda _: None, scores=False)
    shown = time.perf_counter()
    add_scores(checkpoint, log=lambda _: None)
    return shown - started, time.perf_counter() - shown


def products_floor(batch: int, epochs: int, threads: int = 2, steps: int = 40) -> float:
    """Seconds that `epochs` epochs' matrix products alone would take at this moment: the eleven products of
    one step of the lecture's model (encoder 784→400→40, decoder 20→400→784, forward, input and weight
    gradients) timed over `steps` steps and scaled. The shared machine's speed drifts by tens of per cent
    within minutes; this says how fast it was when the run was measured. Run in a thread of its own (the
    job's torch threads slow down while another thread that has used torch lives on)."""
    import torch

    result: list[float] = []

    def measure() -> None:
        torch.set_num_threads(threads)
        g = torch.Generator().manual_seed(0)
        x = torch.rand(batch, 784, generator=g)
        w1, w2, w3, w4 = (
            torch.randn(o, i, generator=g) * 0.05 for o, i in ((400, 784), (40, 400), (400, 20), (784, 400))
        )
        grads = [torch.empty_like(w) for w in (w1, w2, w3, w4)]

        def step() -> None:
            h1 = (x @ w1.t()).relu_()
            code = h1 @ w2.t()
            z = code[:, :20]
            h3 = (z @ w3.t()).relu_()
            d_logits = h3 @ w4.t()  # stands in for σ(logits) − x: the same shape
            torch.mm(d_logits.t(), h3, out=grads[3])
            d_h3 = d_logits @ w4
            torch.mm(d_h3.t(), z, out=grads[2])
            d_z = d_h3 @ w3
            d_code = torch.cat((d_z, d_z), 1)  # stands in for (dμ, d log σ²): the same shape
            torch.mm(d_code.t(), h1, out=grads[1])
            torch.mm((d_code @ w2).t(), x, out=grads[0])

        for _ in range(10):
            step()
        began = time.perf_counter()
        for _ in range(steps):
            step()
        result.append((time.perf_counter() - began) / steps)

    worker = threading.Thread(target=measure)
    worker.start()
    worker.join()
    return result[0] * -(-60_000 // batch) * epochs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch", type=int, default=LECTURE_BATCH, help="batch size (the lecture: 256)")
    parser.add_argument("--threads", type=int, nargs="+", default=[2, 1], help="torch threads of the job")
    parser.add_argument("--poll", type=float, default=0.5, help="seconds between live-view refreshes")
    parser.add_argument("--latency-runs", type=int, default=30, help="slider reruns per condition (0: skip)")
    args = parser.parse_args()
    lines: list[str] = []

    def say(line: str = "") -> None:
        print(line, flush=True)
        lines.append(line)

    say(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    data = SharedData(load_mnist("train", progress=lambda _: None), load_mnist("test", progress=lambda _: None))
    # The app's warm-up, in a thread of its own as the app runs it (a thread that lives on would keep an
    # OpenMP team, and torch's threads spin less while another team exists).
    warm_up = threading.Thread(target=warm_up_trainer, args=(JobQueue(lambda job: None),))
    warm_up.start()
    warm_up.join()
    settings = TrainSettings(
        kind="vae", latent_dim=20, beta=1.0, epochs=args.epochs, lr=1e-3, seed=1, batch_size=args.batch
    )
    with tempfile.TemporaryDirectory() as folder:
        for threads in args.threads:
            floor = products_floor(args.batch, args.epochs, threads)
            row = train_once(data, settings, Path(folder), threads, args.poll)
            epochs = ", ".join(f"{s:.2f}" for s in row["epoch_s"])
            say(
                f"{args.epochs} epochs, batch {args.batch}, {threads} thread(s): "
                f"{row['total_s']:.1f} s from submit to done, its products alone {floor:.1f} s "
                f"({row['cpu_s']:.1f} CPU s, load {os.getloadavg()[0]:.1f}) "
                f"(epochs {epochs} s); test −ELBO {row['test_total']:.1f}; a live-view refresh {row['draw_ms']:.0f} ms"
            )
        shown, scores = map_seconds(row["result"])
        say(f"map of the trained model (vae.quick_map): shown after {shown:.1f} s, its scores {scores:.1f} s later")
        if args.latency_runs:
            for threads in (None, *args.threads):
                median, p90 = slider_latency(data, Path(folder), threads, args.latency_runs)
                during = "no job" if threads is None else f"a job training on {threads} thread(s)"
                say(f"slider view's script run with {during}: median {median:.0f} ms, p90 {p90:.0f} ms")
    say(f"load average after: {os.getloadavg()[0]:.2f}")
    save("train_live", "\n".join(lines))


if __name__ == "__main__":
    main()
