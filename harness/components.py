"""Driving the in-page components (explorer/ui/components) in Chromium: shared by tests/browser/test_live_browser.py
and bench/decode_fps.py. The components draw into canvases inside shadow roots; Playwright's CSS
locators reach into open shadow roots, and the components publish what they show in data- attributes."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from harness import browser as bs

DEMO = bs.REPO / "tests" / "support" / "apps" / "decoder_demo.py"
SLIDERS = ".live-decoder"
PAD = ".live-pad"


class PageServer(bs.AppServer):
    """`streamlit run <script> -- <args>` on a free port (bs.AppServer runs app.py)."""

    def __init__(self, script: Path, script_args: Sequence[str] = (), log_path: Path | None = None) -> None:
        super().__init__(log_path, ["--server.fileWatcherType", "none"])
        self.command[2] = str(script)
        self.command += ["--", *script_args]


def open_page(page: Any, url: str, ready: str = SLIDERS, timeout: float = 90.0) -> None:
    """Opens a page and waits until the component `ready` has its decoder and the first run is over."""
    bs._RUNS[page] = bs.ScriptRuns(page)  # before the page opens its websocket
    page.goto(url)
    page.wait_for_selector(f'{ready}[data-ready="true"]', state="attached", timeout=timeout * 1000)
    bs.wait_settled(page, timeout=timeout)


def dataset(page: Any, selector: str) -> dict[str, str]:
    return page.locator(selector).first.evaluate("e => ({...e.dataset})")


def page_code(page: Any, selector: str = SLIDERS) -> list[float]:
    return json.loads(dataset(page, selector)["code"])


def frames(page: Any, selector: str = SLIDERS) -> int:
    return int(dataset(page, selector)["frames"])


def canvas_digit(page: Any, canvas: str) -> np.ndarray:
    """The 28×28 grey digit a component's canvas shows now (its red channel), uint8."""
    values = page.locator(canvas).first.evaluate(
        "c => Array.from(c.getContext('2d').getImageData(0, 0, 28, 28).data.filter((_, i) => i % 4 === 0))"
    )
    return np.asarray(values, dtype=np.uint8).reshape(28, 28)


def slider_track(page: Any, index: int = 0) -> tuple[float, float, float]:
    """(left x, right x, y) of the index-th live slider's track, in page pixels."""
    box = page.locator(f"{SLIDERS} .live-range").nth(index).bounding_box()
    return box["x"] + 8, box["x"] + box["width"] - 8, box["y"] + box["height"] / 2


def sweep(left: float, right: float, steps: int) -> list[float]:
    """x positions swinging over the track's middle 80 %, a new one at every step."""
    middle, half = (left + right) / 2, 0.4 * (right - left)
    return [middle + half * math.sin(2 * math.pi * k / 40) for k in range(1, steps + 1)]
