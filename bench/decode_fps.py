"""Frames per second of the in-page decoder while a latent slider is dragged, in headless Chromium.

The bare page tests/support/apps/decoder_demo.py is served by `streamlit run`; Playwright drives Debian's Chromium:

- mouse drag: the mouse is held on the most used slider's thumb and swept back and forth (Playwright
  mouse moves, 30 per sweep); frames per second = digits decoded and drawn ÷ wall time. Every move waits
  until Chromium has handled it, so this counts what a real drag shows, capped by how fast the browser
  takes input (60 Hz when the machine is idle).
- per animation frame: the page itself moves the thumb at every requestAnimationFrame, as a 60 Hz mouse
  would, without Playwright in the loop.
- pad hover: the same sweep over the 2-D latent pad (vae_d2): crosshair, grid marker and digit per move.
- decode + draw: the page's own time per frame (JavaScript), i.e. how many frames it could afford.
- bytes: the largest server message when the page opens (carries the decoder's weights) and after a
  rerun (must not carry them again).

    .venv/bin/python bench/decode_fps.py                      # vae_d20 sliders, vae_d2 pad
    .venv/bin/python bench/decode_fps.py --sweeps 20 --repeats 5
    .venv/bin/python bench/decode_fps.py --swiftshader        # with the browser tests' emulated GPU

Chromium runs with its software compositor (--disable-gpu) by default: this page has no WebGL, and on
2 shared cores SwiftShader's emulated GPU (which the tests need for Plotly's WebGL maps) costs more per
frame than the decoding itself; --swiftshader measures with the tests' flags instead.

Appends every sample to bench/results/decode_fps-<date>-<cpu>.json (bench/results.py) and prints a table
with the load average (2 shared cores: noisy).
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.results import log_dir, save  # noqa: E402
from harness import browser as bs  # noqa: E402
from harness import components as ls  # noqa: E402

TARGET_FPS = 30.0
SOFTWARE_COMPOSITING = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-gpu",
]
STEPS_PER_SWEEP = 30
ANIMATION_DRAG_JS = """
async ([selector, seconds]) => {
    const root = document.querySelector('[data-testid="stApp"]');
    const input = [...document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')]
        .map(host => host.shadowRoot && host.shadowRoot.querySelector(selector + ' .live-range'))
        .find(Boolean);
    const decoder = input.closest('.live-decoder');
    const before = Number(decoder.dataset.frames), busyBefore = Number(decoder.dataset.busyMs);
    const started = performance.now();
    let k = 0;
    await new Promise(done => {
        const step = () => {
            k += 1;
            input.value = String(Number(input.max) * 0.8 * Math.sin(k / 10));
            input.dispatchEvent(new Event('input', {bubbles: true}));
            if (performance.now() - started < seconds * 1000) requestAnimationFrame(step); else done();
        };
        requestAnimationFrame(step);
    });
    const frames = Number(decoder.dataset.frames) - before;
    return {frames, seconds: (performance.now() - started) / 1000,
            busy_ms_per_frame: (Number(decoder.dataset.busyMs) - busyBefore) / frames};
}
"""


def mouse_sweeps(page: Any, left: float, right: float, y: float, sweeps: int, dataset_of: str) -> dict:
    """Holds the mouse down at the middle and sweeps it between 10 % and 90 % of [left, right]."""
    page.mouse.move((left + right) / 2, y)
    page.mouse.down()
    before = ls.frames(page, dataset_of)
    started = time.perf_counter()
    for k in range(sweeps):
        page.mouse.move(left + (0.1 if k % 2 == 0 else 0.9) * (right - left), y, steps=STEPS_PER_SWEEP)
    seconds = time.perf_counter() - started
    frames = ls.frames(page, dataset_of) - before
    page.mouse.up()
    return {"frames": frames, "moves": sweeps * STEPS_PER_SWEEP, "seconds": seconds, "fps": frames / seconds}


def pad_sweeps(page: Any, sweeps: int) -> dict:
    plane = page.locator(f"{ls.PAD} .pad-plane")
    plane.scroll_into_view_if_needed()
    box = plane.bounding_box()
    y = box["y"] + 0.4 * box["height"]
    before = ls.frames(page, ls.PAD)
    page.mouse.move(box["x"] + 0.5 * box["width"], y)
    started = time.perf_counter()
    for k in range(sweeps):
        page.mouse.move(box["x"] + (0.1 if k % 2 == 0 else 0.9) * box["width"], y, steps=STEPS_PER_SWEEP)
    seconds = time.perf_counter() - started
    frames = ls.frames(page, ls.PAD) - before
    return {"frames": frames, "moves": sweeps * STEPS_PER_SWEEP + 1, "seconds": seconds, "fps": frames / seconds}


def measure(browser: Any, checkpoint: Path, sweeps: int, repeats: int, log: Path) -> dict:
    result: dict[str, Any] = {"checkpoint": checkpoint.name}
    with ls.PageServer(ls.DEMO, [str(checkpoint)], log) as server:
        server.wait_healthy(90)
        context = browser.new_context(viewport=bs.VIEWPORT)
        page = context.new_page()
        sizes: list[int] = []
        page.on("websocket", lambda socket: socket.on("framereceived", lambda data: sizes.append(len(data))))
        ls.open_page(page, server.url)
        result["first_open_max_message_bytes"] = max(sizes)
        sizes.clear()
        bs.rerun(page, page.get_by_role("button", name="Randomise").click)
        bs.wait_settled(page)
        result["rerun_max_message_bytes"] = max(sizes)
        left, right, y = ls.slider_track(page, 0)
        result["mouse_drag"] = [mouse_sweeps(page, left, right, y, sweeps, ls.SLIDERS) for _ in range(repeats)]
        bs.wait_settled(page)
        result["animation_frames"] = [page.evaluate(ANIMATION_DRAG_JS, [ls.SLIDERS, 3.0]) for _ in range(repeats)]
        if page.locator(ls.PAD).count():
            result["pad_hover"] = [pad_sweeps(page, sweeps) for _ in range(repeats)]
        context.close()
    return result


def median(runs: list[dict], field: str) -> float:
    return statistics.median(run[field] for run in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sliders", type=Path, default=REPO / "checkpoints" / "vae_d20.safetensors")
    parser.add_argument("--pad", type=Path, default=REPO / "checkpoints" / "vae_d2.safetensors")
    parser.add_argument("--sweeps", type=int, default=10, help="sweeps of 30 mouse moves per repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--swiftshader", action="store_true", help="the browser tests' flags (emulated GPU)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    load_before = os.getloadavg()
    with sync_playwright() as playwright:
        flags = bs.CHROMIUM_ARGS if args.swiftshader else SOFTWARE_COMPOSITING
        browser = playwright.chromium.launch(executable_path=str(bs.CHROMIUM), args=flags, headless=True)
        sliders = measure(browser, args.sliders, args.sweeps, args.repeats, log_dir() / "decode_fps.sliders.log")
        pad = measure(browser, args.pad, args.sweeps, args.repeats, log_dir() / "decode_fps.pad.log")
        browser.close()
    load_after = os.getloadavg()
    results = {
        "command": shlex.join(["python", *sys.argv]),
        "machine": f"{platform.node()} · {os.cpu_count()} CPUs",
        "load_average": [load_before[0], load_after[0]],
        "chromium": "SwiftShader (tests' flags)" if args.swiftshader else "software compositing (--disable-gpu)",
        "sliders": sliders,
        "pad": pad,
    }
    out = save("decode_fps", results)
    print(f"$ {results['command']}")
    print(f"{results['machine']} · load average {load_before[0]:.2f} → {load_after[0]:.2f} · {results['chromium']}\n")
    print(f"{'':58}{'median':>9}  target")
    for label, run in (("sliders", sliders), ("pad", pad)):
        drag, frames = run["mouse_drag"], run["animation_frames"]
        print(f"{label}: {run['checkpoint']}")
        print(f"  {'mouse drag: decoded frames per second':56}{median(drag, 'fps'):9.1f}  ≥ {TARGET_FPS:g}")
        print(f"  {'  (frames per mouse move)':56}{median(drag, 'frames') / drag[0]['moves']:9.2f}")
        fps = statistics.median(f["frames"] / f["seconds"] for f in frames)
        print(f"  {'thumb moved every animation frame: frames per second':56}{fps:9.1f}")
        print(f"  {'decode + draw in the page, ms per frame':56}{median(frames, 'busy_ms_per_frame'):9.2f}")
        if "pad_hover" in run:
            print(f"  {'pad hover: decoded frames per second':56}{median(run['pad_hover'], 'fps'):9.1f}")
        print(f"  {'largest message on opening (weights), kB':56}{run['first_open_max_message_bytes'] / 1e3:9.0f}")
        print(f"  {'largest message of a later rerun, kB':56}{run['rerun_max_message_bytes'] / 1e3:9.0f}")
    print(f"\nevery sample: {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
