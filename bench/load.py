"""How many users one explorer server serves: simulated users over Streamlit's websocket protocol.

Each user is a websocket session (bench/load_client.py, no browser) that opens the app, optionally visits
every view once (`--tour`), then moves a latent slider to a random value about once a second (think time
uniform in 0.5–1.5 × `--think`) for `--seconds`. Per user count, on a fresh `streamlit run app.py` on
loopback, it reports the server time of each run (request → script_finished) as p50 / p95 / max, the
failures (timeouts, errors or exceptions shown), the server's CPU share while loaded, and its memory:
RSS after one warm-up user, with every user connected (→ MiB per session) and after they all left.

    .venv/bin/python bench/load.py --users 20 40 100                  # the shipped config
    .venv/bin/python bench/load.py --users 20 --gc on off freeze      # full GC per run vs none vs gc.freeze
    .venv/bin/python bench/load.py --views                            # each view's own per-run work
    .venv/bin/python bench/load.py --users 40 --browsers 2            # + real Chromium pages under the load

Appends to bench/results/load-<date>-<cpu>.json (or --name). The machine is shared: the load average is
printed with each row.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the app's own packages (harness.browser reads explorer.pages)
sys.path.insert(0, str(REPO / "bench"))

from load_client import RunFailed, StreamlitUser, option_labels  # noqa: E402
from load_meter import Meter, load_average, rss_mb  # noqa: E402

from bench.results import log_dir, save  # noqa: E402
from harness import browser as bs  # noqa: E402

GC_ARGS = {  # --gc mode → (main script, extra `streamlit run` options)
    "off": ("app.py", []),  # the shipped .streamlit/config.toml: runner.postScriptGC = false
    "on": ("app.py", ["--runner.postScriptGC", "true"]),  # Streamlit's default
    "freeze": ("bench/load_freeze_app.py", ["--runner.postScriptGC", "true"]),
}


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


@contextmanager
def start_server(gc_mode: str, log: Path) -> Iterator[bs.AppServer]:
    script, extra = GC_ARGS[gc_mode]
    server = bs.AppServer(log_path=log, extra_args=extra)
    server.command[2] = script  # `streamlit run <script>`
    with server:
        server.wait_healthy(120)
        yield server


async def views_of(user: StreamlitUser) -> list[tuple[str, object]]:
    """(name, how to open it) for every view: st.navigation pages, or the options of the "View" control."""
    pages: dict[str, str] = {}  # page hash → its title (the first name load_client recorded for it)
    for name, page_hash in user.pages.items():
        if name and page_hash not in pages:
            pages[page_hash] = name
    if len(pages) > 1:
        return [(name, name) for name in pages.values()]
    control = user.widget("View", "button_group")
    return [(label.split(": ", 1)[-1], label) for label in option_labels(control)]


async def open_view(user: StreamlitUser, how: object) -> object:
    if isinstance(how, str) and how in user.pages and len(set(user.pages.values())) > 1:
        return await user.open_page(how)
    return await user.choose(user.widget("View", "button_group"), str(how))


async def tour(user: StreamlitUser) -> None:
    """Visits every view once, then comes back to the first (the sliders)."""
    views = await views_of(user)
    for _, how in [*views, views[0]]:
        await open_view(user, how)


async def one_user(url: str, args: argparse.Namespace, stop_at: float, out: dict, seed: int) -> None:
    rng = random.Random(seed)
    try:
        async with StreamlitUser(url) as user:
            first = await user.run(timeout=120)
            out["first_s"].append(first.seconds)
            if args.tour:
                await tour(user)
            out["connected"] += 1
            while time.monotonic() < stop_at:
                await asyncio.sleep(args.think * rng.uniform(0.5, 1.5))
                live = user.live_sliders()
                if live is not None:  # the sliders decode in the page: the server hears a drag's end
                    data = json.loads(live.proto.json)
                    code = [round(rng.uniform(-3.0, 3.0), 2) for _ in data["code"]]
                    run = await user.release_live_sliders(live, code)
                else:
                    slider = rng.choice(user.sliders())
                    extent = min(abs(slider.proto.min), abs(slider.proto.max))
                    run = await user.move_slider(slider, round(rng.uniform(-extent, extent), 2))
                out["runs_s"].append(run.seconds)
                if run.errors:
                    out["failures"].append("; ".join(run.errors)[:200])
            out["done"].set()  # one user finished: the others are about to
            await out["leave"].wait()  # hold the session until every user's memory is counted
    except (RunFailed, OSError, KeyError) as exc:
        out["failures"].append(f"{type(exc).__name__}: {exc}"[:200])


async def load(url: str, pid: int, args: argparse.Namespace, users: int) -> dict:
    out: dict = {"first_s": [], "runs_s": [], "failures": [], "connected": 0}
    out["done"], out["leave"] = asyncio.Event(), asyncio.Event()
    async with StreamlitUser(url) as warm:  # loads the model (and, with --tour, every view's resources)
        await warm.run(timeout=180)
        await tour(warm)
    await asyncio.sleep(2)
    rss0 = rss_mb(pid)
    start = time.monotonic()
    stop_at = start + args.ramp + args.seconds
    tasks = []
    for i in range(users):  # users arrive spread over the ramp
        tasks.append(asyncio.create_task(one_user(url, args, stop_at, out, seed=i)))
        await asyncio.sleep(args.ramp / users)
    meter = Meter(pid).start()  # steady state: everyone has arrived
    await asyncio.wait_for(out["done"].wait(), args.seconds + 300)
    meter.stop()
    await asyncio.sleep(1)
    rss_connected = rss_mb(pid)
    out["leave"].set()
    await asyncio.gather(*tasks)
    await asyncio.sleep(5)
    rss_left = rss_mb(pid)
    # Streamlit keeps a session whose websocket closed for server.disconnectedSessionTTL (120 s) for a
    # reconnect: only after that can its memory go.
    await asyncio.sleep(args.linger)
    runs = out["runs_s"]
    return {
        "users": users,
        "connected": out["connected"],
        "runs": len(runs),
        "runs_per_s": len(runs) / max(meter.wall_s, 1e-9),
        "p50_ms": 1000 * percentile(runs, 0.5),
        "p95_ms": 1000 * percentile(runs, 0.95),
        "max_ms": 1000 * max(runs, default=float("nan")),
        "first_run_p50_ms": 1000 * percentile(out["first_s"], 0.5),
        "failures": len(out["failures"]),
        "failure_examples": sorted(set(out["failures"]))[:5],
        "server_cpu_percent": meter.cpu_percent,
        # Server CPU per run: independent of how much of the shared machine the server got.
        "server_cpu_ms_per_run": 10 * meter.cpu_percent * meter.wall_s / len(runs) if runs else float("nan"),
        "rss_warm_mb": rss0,
        "rss_peak_mb": meter.peak_mb,
        "rss_connected_mb": rss_connected,
        "mb_per_session": (rss_connected - rss0) / max(users, 1),
        "rss_after_leave_mb": rss_left,
        "linger_s": args.linger,
        "rss_after_linger_mb": rss_mb(pid),
        "load_average": load_average(),
        "samples_ms": [round(1000 * s, 1) for s in runs],
    }


async def view_work(url: str, reruns: int) -> list[dict]:
    """Each view's own per-run work, one user on a quiet server: open it, then rerun it `reruns` times."""
    rows = []
    async with StreamlitUser(url) as user:
        await user.run(timeout=180)
        for name, how in await views_of(user):
            opened = await open_view(user, how)
            times = [(await user.run()).seconds for _ in range(reruns)]
            rows.append(
                {
                    "view": name,
                    "first_open_ms": 1000 * opened.seconds,
                    "rerun_median_ms": 1000 * statistics.median(times),
                    "rerun_max_ms": 1000 * max(times),
                    "messages": opened.messages,
                    "uncompressed_kb": opened.received_bytes / 1024,
                    "errors": opened.errors,
                }
            )
            print(
                f"  {name:24s} open {rows[-1]['first_open_ms']:7.0f} ms, rerun {rows[-1]['rerun_median_ms']:6.0f} ms"
                f" (max {rows[-1]['rerun_max_ms']:.0f}), {rows[-1]['uncompressed_kb']:8.0f} KiB",
                flush=True,
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, nargs="*", default=[20, 40, 100])
    parser.add_argument("--gc", nargs="+", choices=list(GC_ARGS), default=["off"])
    parser.add_argument("--seconds", type=float, default=30.0, help="steady load per user count")
    parser.add_argument("--ramp", type=float, default=5.0, help="users arrive spread over this many seconds")
    parser.add_argument("--think", type=float, default=1.0, help="mean seconds between a user's slider moves")
    parser.add_argument("--tour", action="store_true", help="each user visits every view once first")
    parser.add_argument("--views", action="store_true", help="measure each view's per-run work instead")
    parser.add_argument("--reruns", type=int, default=10, help="reruns per view with --views")
    parser.add_argument("--browsers", type=int, default=0, help="real Chromium pages moving a slider too")
    parser.add_argument("--linger", type=float, default=0.0, help="seconds to wait after users leave, then RSS")
    parser.add_argument("--server-env", nargs="*", default=[], metavar="KEY=VALUE", help="e.g. MALLOC_ARENA_MAX=2")
    parser.add_argument("--name", default="load", help="result name: bench/results/NAME-<date>-<cpu>.json")
    args = parser.parse_args()
    os.environ.update(item.split("=", 1) for item in args.server_env)  # the servers inherit it
    report: dict = {"args": vars(args), "rows": []}
    for gc_mode in args.gc:
        if args.views:
            with start_server(gc_mode, log_dir() / f"load_server_{gc_mode}.log") as server:
                print(f"gc {gc_mode}: per-view work (load average {load_average():.2f})", flush=True)
                report["views"] = asyncio.run(view_work(server.url, args.reruns))
            continue
        for users in args.users:  # a fresh server for each count: its memory figures are its own
            with start_server(gc_mode, log_dir() / f"load_server_{gc_mode}_{users}.log") as server:
                browsers = None
                if args.browsers:
                    from load_browsers import BrowserUsers

                    browsers = BrowserUsers(server.url, args.browsers, args.ramp + args.seconds).start()
                row = {"gc": gc_mode, **asyncio.run(load(server.url, server.process.pid, args, users))}
                if browsers is not None:
                    row["browser"] = browsers.join()
            report["rows"].append(row)
            print(
                f"gc {gc_mode:6s} {users:4d} users: p50 {row['p50_ms']:6.0f} ms  p95 {row['p95_ms']:6.0f} ms  "
                f"max {row['max_ms']:6.0f} ms  {row['runs_per_s']:5.1f} runs/s  failures {row['failures']}  "
                f"CPU {row['server_cpu_percent']:4.0f} % ({row['server_cpu_ms_per_run']:.0f} ms/run)  "
                f"RSS {row['rss_warm_mb']:.0f} → "
                f"{row['rss_connected_mb']:.0f} MiB ({row['mb_per_session']:.1f}/session, peak "
                f"{row['rss_peak_mb']:.0f}), after leaving {row['rss_after_leave_mb']:.0f}, "
                f"{row['linger_s']:.0f} s later {row['rss_after_linger_mb']:.0f}  "
                f"load {row['load_average']:.2f}" + (f"  browser {row['browser']}" if browsers else ""),
                flush=True,
            )
    save(args.name, report)


if __name__ == "__main__":
    main()
