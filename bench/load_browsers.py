"""Real browsers beside the simulated users of bench/load.py, and a burst of large uploads.

BrowserUsers: a few headless Chromium pages (one browser, a context each) open the app and press a slider's
arrow key about once a second; each time is key press → the new decoded picture loaded in the page: what a
student sees while the simulated class loads the server.

    .venv/bin/python bench/load_browsers.py --uploads 5          # five 4000×4000 photos uploaded at once

upload_burst: `count` pages open the digit view, then upload a 4000×4000 photo of a digit at the same
moment; the server's RSS is sampled throughout (peak) and read again once every page shows its result.
Appended to bench/results/load_uploads-<date>-<cpu>.json (bench/results.py).
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the app's own packages (harness.browser reads explorer.pages)
sys.path.insert(0, str(REPO / "bench"))

from load_meter import Meter, rss_mb  # noqa: E402

from bench.results import log_dir, save  # noqa: E402
from harness import browser as bs  # noqa: E402


class BrowserUsers:
    """`count` Chromium pages moving a slider for `seconds`, in a thread (Playwright's sync API)."""

    def __init__(self, url: str, count: int, seconds: float) -> None:
        self.url, self.count, self.seconds = url, count, seconds
        self.samples: list[float] = []
        self.failures: list[str] = []
        self._thread = threading.Thread(target=self._drive, daemon=True)

    def start(self) -> BrowserUsers:
        self._thread.start()
        return self

    def join(self) -> dict:
        self._thread.join(self.seconds + 300)
        s = sorted(self.samples)
        return {
            "pages": self.count,
            "moves": len(s),
            "p50_ms": round(1000 * statistics.median(s)) if s else None,
            "p95_ms": round(1000 * s[min(len(s) - 1, round(0.95 * (len(s) - 1)))]) if s else None,
            "failures": self.failures[:5],
        }

    def _drive(self) -> None:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = bs.launch_chromium(playwright)
            try:
                pages = []
                for _ in range(self.count):
                    page = browser.new_context(viewport=bs.VIEWPORT).new_page()
                    bs.goto_app(page, self.url)
                    pages.append(page)
                stop_at = time.monotonic() + self.seconds
                while time.monotonic() < stop_at:  # round robin: one move per page per turn
                    for page in pages:
                        self._move(page)
                    time.sleep(max(0.0, 1.0 - 0.3 * len(pages)))
            except Exception as exc:  # reported with the numbers, not raised in the thread
                self.failures.append(f"{type(exc).__name__}: {exc}"[:200])
            finally:
                browser.close()

    def _move(self, page: Any) -> None:
        # The digit is decoded in the page at once; what loads the server is the code's commit (a script
        # run, 0.3 s after the key): the sample is key press → that run over.
        before = bs.script_runs(page).finished
        slider = page.locator(".live-decoder .live-range").first
        started = time.perf_counter()
        slider.press("ArrowRight" if len(self.samples) % 4 < 2 else "ArrowLeft")
        try:
            bs.wait_run_finished(page, before, timeout=30)
            self.samples.append(time.perf_counter() - started)
        except Exception as exc:
            self.failures.append(f"{type(exc).__name__}: {exc}"[:200])


def big_photo(size: int = 4000) -> bytes:
    """A 4000×4000 JPEG of a digit with paper grain: a phone photo's size (about 4 MB, under the 5 MB cap)."""
    import numpy as np

    digit = Image.open(io.BytesIO(bs.digit_png("seven", size))).convert("L")
    grain = np.random.default_rng(0).normal(0, 6, (size, size))
    pixels = np.clip(np.asarray(digit, dtype=np.float64) * 0.85 + 20 + grain, 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def upload_burst(url: str, pid: int, count: int) -> dict:
    from playwright.sync_api import sync_playwright

    photo = big_photo()
    with sync_playwright() as playwright:
        browser = bs.launch_chromium(playwright)
        try:
            pages = []
            for _ in range(count):
                page = browser.new_context(viewport=bs.VIEWPORT).new_page()
                bs.goto_app(page, url)
                bs.open_view(page, "digit")
                pages.append(page)
            before = rss_mb(pid)
            meter = Meter(pid, interval=0.02).start()
            started = time.perf_counter()
            for page in pages:  # set_input_files returns once the browser has the file: all go out together
                bs.upload(page, "photo.jpg", photo, "image/jpeg")
            for page in pages:
                bs.wait_image_loaded(page, bs.RECONSTRUCTION_IMAGE, timeout=120)
            seconds = time.perf_counter() - started
            meter.stop()
            errors = [e for page in pages for e in bs.exceptions(page)]
            time.sleep(3)
            return {
                "uploads": count,
                "photo_mb": len(photo) / 2**20,
                "rss_before_mb": before,
                "rss_peak_mb": meter.peak_mb,
                "rss_after_mb": rss_mb(pid),
                "seconds_to_all_results": seconds,
                "exceptions": errors,
            }
        finally:
            browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--uploads", type=int, default=5)
    args = parser.parse_args()
    with bs.AppServer(log_path=log_dir() / "load_uploads_server.log") as server:
        server.wait_healthy(120)
        result = upload_burst(server.url, server.process.pid, args.uploads)
    print(json.dumps(result, indent=1))
    save("load_uploads", result)


if __name__ == "__main__":
    main()
