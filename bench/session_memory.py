"""Issue 23's memory bound: twenty 19 MB checkpoint uploads in one session, then the tab closed.

    python bench/session_memory.py                  # 20 uploads, then 150 s of sampling after the close
    python bench/session_memory.py --uploads 5 --after 90

The app runs as scripts/start.sh runs it (`streamlit run app.py` from the repository root, its environment
with MALLOC_ARENA_MAX=2 and MALLOC_MMAP_THRESHOLD_=1048576, which --server-env changes:
harness.browser.AppServer); Playwright drives Debian's Chromium. One valid checkpoint of
about 19 MB (a float32 784-H-20 VAE with random weights, written by vae.checkpoint.write_checkpoint and
checked with load_checkpoint) is uploaded 20 times under 20 names, as a visitor does it: the sidebar's model
radio → "Upload a checkpoint…" → the file uploader; each upload waits until the model is in the picker
("NAME (yours)") and the page has settled. The app keeps 4 models per session; each upload also queues its
map (off the page).

First (--warm-up, 1 by default) an earlier visitor uploads a checkpoint, waits for its map and leaves,
and the server forgets it: what a server pays once whoever comes first (openTSNE's and numba's first map,
the shared test set) is then part of the level the measured visitor is compared with.

The server's resident memory (VmRSS from /proc, the streamlit process and all its children) is read at
start, once the page is loaded, after each upload, then every 5 s for `--after` seconds after the browser
context is closed; a sampler thread reads it every 0.25 s for the peak. Issue 23: within two minutes of
the tab closing, the server must be back within 50 MB of where it was before the uploads. Streamlit drops
a closed tab's session after server.disconnectedSessionTTL (60 s, .streamlit/config.toml); the app's
janitor deletes its files a minute after it is gone (checks every 15 s) and then runs gc.collect().

With --probe the server runs bench/session_memory_app.py (app.py, with a probe thread beside it), and at
the end it says what it still holds: sessions, uploaded files, models, tensors, big bytes, glibc's free
but kept memory, and the RSS after malloc_trim(0).

The samples and the summary are appended to bench/results/session_memory-<date>-<cpu>.json (bench/results.py).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.results import log_dir, save  # noqa: E402
from harness import browser as bs  # noqa: E402

BOUND_BACK_MB = 50.0  # issue 23: back within 50 MB of the pre-upload level ...
BOUND_BACK_S = 120.0  # ... within two minutes of the tab closing
UPLOAD_CHOICE = "Upload a checkpoint…"  # explorer/ui/model_picker.py's label for the radio's upload option
SIDEBAR = '[data-testid="stSidebar"]'


# ---------------------------------------------------------------- the server's memory


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(c) for c in (task / "children").read_text().split()]
    except OSError:  # the process (or a thread) ended while we looked
        pass
    return found


def process_tree(pid: int) -> list[int]:
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo += _children(current)
    return tree


def status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_mb(pid: int) -> float:
    """VmRSS of the server and every process under it (psutil is not installed), in MB (10^6 bytes, as
    issue 23 and the uploader's limit count; /proc's "kB" are KiB)."""
    return sum(status_kb(p, "VmRSS") for p in process_tree(pid)) * 1024 / 1e6


class PeakSampler(threading.Thread):
    """Reads the tree's RSS every `every` seconds: the peak between the named samples."""

    def __init__(self, pid: int, every: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.pid, self.every, self.peak, self.peak_at = pid, every, 0.0, 0.0
        self.started_at = time.monotonic()
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(self.every):
            rss = tree_rss_mb(self.pid)
            if rss > self.peak:
                self.peak, self.peak_at = rss, time.monotonic() - self.started_at


def probe(folder: Path, timeout: float = 180.0) -> dict:
    """Asks bench/session_memory_app.py's probe thread what the server still holds, and what malloc_trim(0)
    gives back (see there)."""
    import json

    (folder / "request").touch()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (folder / "probe.json").is_file():
            return json.loads((folder / "probe.json").read_text())
        time.sleep(0.5)
    return {"error": f"no answer from the probe in {timeout:.0f} s"}


# ---------------------------------------------------------------- the upload


def make_checkpoint(folder: Path, hidden: int) -> Path:
    """A valid float32 VAE checkpoint (784-hidden-20, random weights), its metadata as vae/training.py writes it."""
    import torch

    from vae.checkpoint import load_checkpoint, model_tensors, write_checkpoint
    from vae.config import ModelConfig, TrainConfig
    from vae.model import build_model

    torch.manual_seed(0)
    model = build_model(ModelConfig(kind="vae", hidden_dim=hidden, latent_dim=20)).eval()
    losses = {"recon": 80.0, "kl": 25.0, "total": 105.0}
    meta = {
        "model": model.config.to_dict(),
        "kind": model.kind,
        "train": TrainConfig(epochs=1).to_dict(),
        "epoch": 1,
        "history": [{"epoch": 1, "train": losses, "test": losses}],
        "metrics": {"epoch": 1, "train": losses, "test": losses},
    }
    path = folder / f"vae_h{hidden}_d20.safetensors"
    write_checkpoint(path, model_tensors(model), meta)
    load_checkpoint(path)  # as the app will: a file it refuses would measure nothing
    return path


def sidebar_text(page) -> str:
    # The app keeps names that look like links as text with invisible word joiners (explorer.words.plain).
    return page.locator(SIDEBAR).inner_text().replace("\u2060", "")


def upload_checkpoint(page, name: str, payload: bytes, timeout: float = 180.0) -> float:
    """The sidebar's radio → "Upload a checkpoint…" → the uploader; until NAME (yours) is listed. Seconds taken."""
    started = time.monotonic()
    sidebar = page.locator(SIDEBAR)
    bs.rerun(page, sidebar.get_by_text(UPLOAD_CHOICE, exact=True).click)
    uploader = sidebar.locator('[data-testid="stFileUploader"] input[type="file"]')
    uploader.wait_for(state="attached", timeout=30_000)
    uploader.set_input_files({"name": name, "mimeType": "application/octet-stream", "buffer": payload})
    while f"{name} (yours)" not in sidebar_text(page):
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"{name} not in the picker after {timeout:.0f} s; the sidebar: {sidebar_text(page)!r}")
        page.wait_for_timeout(200)
    bs.wait_settled(page, timeout=timeout)
    return time.monotonic() - started


def warm_up(browser, url: str, payload: bytes, uploads: int, sample) -> None:
    """An earlier visitor: uploads, waits for the maps, leaves; then the server has forgotten it (Streamlit's
    disconnectedSessionTTL and the janitor's minute, plus two janitor rounds)."""
    context = browser.new_context(viewport=bs.VIEWPORT)
    page = context.new_page()
    bs.goto_app(page, url)
    bs.wait_settled(page)
    for index in range(uploads):
        upload_checkpoint(page, f"warmup{index + 1:02d}.safetensors", payload)
    sample(f"warm-up visitor: {uploads} upload(s)")
    deadline = time.monotonic() + 300
    bs.rerun(page, page.get_by_role("link", name="t-SNE map").first.click)  # where its map's progress shows
    page.wait_for_timeout(3000)
    while "Building its map" in page.inner_text("body") and time.monotonic() < deadline:  # the page polls
        page.wait_for_timeout(2000)
    sample("warm-up visitor: maps built")
    context.close()
    time.sleep(60 + 60 + 2 * 15 + 5)
    sample("warm-up visitor gone and forgotten")


# ---------------------------------------------------------------- the run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--uploads", type=int, default=20)
    parser.add_argument("--hidden", type=int, default=2950, help="the checkpoint's hidden width (2950: ~19 MB)")
    parser.add_argument("--after", type=float, default=150.0, help="seconds of sampling after the tab closes")
    parser.add_argument("--every", type=float, default=5.0, help="seconds between samples after the close")
    parser.add_argument(
        "--settle",
        type=float,
        default=60.0,
        help="seconds of sampling with the page open, before the first upload: the server's warm-up "
        "(the janitor's first round, 15 s in, creates the training queue, whose warm-up loads MNIST) ends",
    )
    parser.add_argument(
        "--warm-up",
        type=int,
        default=1,
        metavar="N",
        help="before the measured visitor, an earlier one uploads N checkpoints (its maps built) and leaves, and "
        "the server forgets it: what a server pays once, whoever comes first (openTSNE's and numba's first "
        "map, the test set) is then in the level the measured visitor is compared with; 0: a cold server",
    )
    parser.add_argument(
        "--probe",
        action="store_true",
        help="serve bench/session_memory_app.py (app.py with a probe thread) and ask it at the end what it holds",
    )
    parser.add_argument(
        "--server-env",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="more for the server's environment, e.g. MALLOC_MMAP_THRESHOLD_=4194304 (glibc's tunables)",
    )
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    os.environ["MALLOC_ARENA_MAX"] = "2"  # as scripts/start.sh exports them; the server inherits them
    os.environ["MALLOC_MMAP_THRESHOLD_"] = "1048576"
    os.environ.update(item.split("=", 1) for item in args.server_env)
    os.environ.setdefault("VAE_DATA_DIR", str(Path.home() / ".cache" / "vae-latent-explorer" / "data"))
    samples: list[dict] = []
    with tempfile.TemporaryDirectory() as folder:
        checkpoint = make_checkpoint(Path(folder), args.hidden)
        payload = checkpoint.read_bytes()
    print(f"checkpoint: 784-{args.hidden}-20 VAE, float32, {len(payload) / 1e6:.1f} MB", flush=True)

    probe_dir = Path(tempfile.mkdtemp(prefix="vae-probe-"))
    server = bs.AppServer(log_path=log_dir() / "session_memory_server.log")
    if args.probe:
        server.command[2] = "bench/session_memory_app.py"  # `streamlit run <script>`: app.py, run by it
        os.environ["VAE_BENCH_PROBE_DIR"] = str(probe_dir)
    with server:
        server.wait_healthy(120)
        pid = server.process.pid
        clock = time.monotonic()

        def sample(event: str) -> float:
            rss = tree_rss_mb(pid)
            samples.append({"t_s": round(time.monotonic() - clock, 1), "event": event, "rss_mb": round(rss, 1)})
            samples[-1]["load_1min"] = round(os.getloadavg()[0], 2)
            print(f"{samples[-1]['t_s']:7.1f} s  {rss:7.1f} MB  {event}", flush=True)
            return rss

        time.sleep(2)  # the server's own start-up settles
        start_rss = sample("server started, no session")
        sampler = PeakSampler(pid)
        sampler.start()
        upload_seconds = []
        with sync_playwright() as playwright:
            browser = bs.launch_chromium(playwright)
            if args.warm_up:
                warm_up(browser, server.url, payload, args.warm_up, sample)
            context = browser.new_context(viewport=bs.VIEWPORT)
            page = context.new_page()
            bs.goto_app(page, server.url)
            bs.wait_settled(page)
            loaded_rss = sample("page loaded")
            settle_started = time.monotonic()
            for k in range(1, int(args.settle / args.every) + 1):  # the page open, nothing done
                time.sleep(max(0.0, settle_started + k * args.every - time.monotonic()))
                sample(f"page open {k * args.every:.0f} s, idle")
            before_rss = samples[-1]["rss_mb"]  # the pre-upload level: the page open, the server warmed up
            failed = []
            for index in range(args.uploads):
                name = f"upload{index + 1:02d}.safetensors"
                try:
                    upload_seconds.append(round(upload_checkpoint(page, name, payload), 1))
                except Exception as exc:  # recorded: the close and the sampling after it still matter
                    failed.append(f"{name}: {exc}"[:500])
                    sample(f"upload {index + 1} ({name}) FAILED")
                    continue
                sample(f"after upload {index + 1} ({name}, {upload_seconds[-1]:.1f} s)")
            after_uploads = samples[-1]["rss_mb"]
            errors = bs.exceptions(page)
            context.close()  # the tab closes: its websocket goes, the session is disconnected
            closed_at = time.monotonic()
            sample("browser context closed")
            back_at = None
            for k in range(1, int(args.after / args.every) + 1):  # on a fixed grid: closed_at + k × every
                time.sleep(max(0.0, closed_at + k * args.every - time.monotonic()))
                rss = sample(f"{time.monotonic() - closed_at:.0f} s after the close")
                if back_at is None and rss <= before_rss + BOUND_BACK_MB:
                    back_at = time.monotonic() - closed_at
            browser.close()
        sampler.stopping.set()
        sampler.join()
        main_hwm = status_kb(pid, "VmHWM") * 1024 / 1e6
        final_rss = samples[-1]["rss_mb"]
        held = probe(probe_dir) if args.probe else None
        if held:
            print(f"what the server holds at the end: {held}", flush=True)

    back = f"{back_at:.0f} s after the close" if back_at is not None else "not within the run"
    summary = {
        "checkpoint_bytes": len(payload),
        "hidden_dim": args.hidden,
        "uploads": args.uploads,
        "rss_start_mb": round(start_rss, 1),
        "rss_page_loaded_mb": round(loaded_rss, 1),
        "settle_s": args.settle,
        "rss_before_uploads_mb": round(before_rss, 1),
        "rss_after_uploads_mb": after_uploads,
        "rss_peak_mb": round(max(sampler.peak, *(s["rss_mb"] for s in samples)), 1),
        "rss_peak_at_s": round(sampler.peak_at, 1),
        "server_vmhwm_mb": round(main_hwm, 1),
        "rss_final_mb": final_rss,
        "seconds_after_close": round(args.after),
        "back_within_50mb_after_s": None if back_at is None else round(back_at, 1),
        "final_above_before_uploads_mb": round(final_rss - before_rss, 1),
        "met": back_at is not None and back_at <= BOUND_BACK_S,
        "upload_seconds": upload_seconds,
        "uploads_failed": failed,
        "page_exceptions": errors,
        "server_script": server.command[2],
        "server_env": ["MALLOC_ARENA_MAX=2", "MALLOC_MMAP_THRESHOLD_=1048576", *args.server_env],
        "warm_up_uploads": args.warm_up,
        "probe_at_end": held,
        "samples": samples,
    }
    print(
        f"\nRSS (server + children): start {start_rss:.0f} MB, page loaded {loaded_rss:.0f}, "
        f"{args.settle:.0f} s later (before the uploads) {before_rss:.0f}, after "
        f"{args.uploads} uploads {after_uploads:.0f}, peak {summary['rss_peak_mb']:.0f} "
        f"(server's own high-water mark {main_hwm:.0f}); {args.after:.0f} s after the close {final_rss:.0f} "
        f"({final_rss - before_rss:+.0f} vs before the uploads). Back within {BOUND_BACK_MB:g} MB: {back}; "
        f"issue 23 (≤ {BOUND_BACK_S:g} s): {'met' if summary['met'] else 'NOT met'}"
    )
    save("session_memory", summary)


if __name__ == "__main__":
    main()
