"""Driving the explorer in a real browser: shared by tests/browser/ and bench/.

The app runs as a real `streamlit run app.py` server on a free port; Playwright drives Debian's Chromium
(Playwright's own browser download is not used). WebGL (Plotly's Scattergl maps) goes through SwiftShader.
"""

from __future__ import annotations

import io
import itertools
import os
import socket
import subprocess
import sys
import time
import urllib.request
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from PIL import Image, ImageDraw
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from explorer.pages import VIEWS

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path(os.environ.get("VAE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--use-angle=swiftshader",  # software WebGL: Plotly's Scattergl maps need it on a machine without a GPU
    "--enable-unsafe-swiftshader",
    # The page painted and composited by Skia on the CPU: SwiftShader, a GPU emulated on the CPU, then draws
    # only WebGL (painting through it cost the test suite most of its Chromium time, docs/testing.md).
    "--disable-gpu-rasterization",
    "--disable-gpu-compositing",
]
VIEWPORT = {"width": 1400, "height": 1000}
STREAMLIT = Path(sys.executable).with_name("streamlit")

# Locators (the app's widget labels and captions; see explorer/).
LIVE_SLIDERS_READY = '.live-decoder[data-ready="true"]'  # the in-page decoder has its weights and drew
RECONSTRUCTION_IMAGE = "its reconstruction (decoded μ)"
VIEW_TITLES = {view.url_path: view.title for view in VIEWS}  # the navigation's link texts


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AppServer:
    """`streamlit run app.py` on a free port, from the repository root (so .streamlit/config.toml applies).

    Use as a context manager: the server is terminated (then killed) on exit, whatever happened.
    """

    def __init__(self, log_path: Path | None = None, extra_args: Sequence[str] = ()) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.command = [
            str(STREAMLIT),
            "run",
            "app.py",
            "--server.port",
            str(self.port),
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
            *extra_args,
        ]
        self.process: subprocess.Popen | None = None
        self._log: IO[bytes] | None = None
        self.started = 0.0

    def start(self) -> AppServer:
        self._log = open(self.log_path, "wb") if self.log_path else None  # noqa: SIM115 (closed in stop)
        output = self._log if self._log else subprocess.DEVNULL
        self.started = time.perf_counter()
        self.process = subprocess.Popen(self.command, cwd=REPO, stdout=output, stderr=subprocess.STDOUT)
        return self

    def wait_healthy(self, timeout: float = 60.0) -> float:
        """Seconds from start() until /_stcore/health answers ok."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.process.returncode}: {self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as answer:
                    if answer.read().strip() == b"ok":
                        return time.perf_counter() - self.started
            except OSError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"streamlit did not answer {self.url}/_stcore/health within {timeout:.0f} s")

    def log_tail(self, chars: int = 3000) -> str:
        if self.log_path is None or not self.log_path.is_file():
            return "(no server log)"
        return self.log_path.read_text(errors="replace")[-chars:]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> AppServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def launch_chromium(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)


# ---------------------------------------------------------------- waiting on the app


IDLE_APP = '[data-testid="stApp"][data-test-script-state="notRunning"]'


def wait_idle(page: Any, timeout: float = 60.0) -> None:
    """Until the script run is over: Streamlit marks its root with data-test-script-state."""
    page.wait_for_selector(IDLE_APP, state="attached", timeout=timeout * 1000)


class ScriptRuns:
    """Counts the script runs Streamlit starts and finishes for one page, read from its websocket messages.

    The DOM's data-test-script-state cannot tell this: when a run is quick, React renders its "running"
    and "notRunning" in one commit and the attribute never changes (3 of 90 view switches here).
    """

    def __init__(self, page: Any) -> None:
        self.started = 0
        self.finished = 0
        self.last_message = time.monotonic()
        page.on("websocket", lambda socket: socket.on("framereceived", self._received))

    def _received(self, payload: str | bytes) -> None:
        if isinstance(payload, str):
            return
        message = ForwardMsg()
        message.ParseFromString(payload)
        self.last_message = time.monotonic()
        kind = message.WhichOneof("type")
        if kind == "new_session":  # sent when a run starts
            self.started += 1
        elif kind == "script_finished":  # sent when a run ends, however it ended
            self.finished += 1


_RUNS: weakref.WeakKeyDictionary[Any, ScriptRuns] = weakref.WeakKeyDictionary()


def script_runs(page: Any) -> ScriptRuns:
    if page not in _RUNS:
        raise RuntimeError("open the app with goto_app(page, url): it starts counting the page's script runs")
    return _RUNS[page]


def _poll(page: Any, done: Callable[[], bool], timeout: float, failure: str) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{failure} within {timeout:g} s")
        page.wait_for_timeout(20)  # Playwright delivers the websocket events while it waits


def next_frames(page: Any) -> None:
    """Until the browser has drawn twice more: what the last messages changed is on the page."""
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")


def wait_run_finished(page: Any, before: int, timeout: float = 60.0) -> None:
    """Until a script run has finished since script_runs(page).finished was `before`, and it is drawn."""
    runs = script_runs(page)
    _poll(page, lambda: runs.finished > before, timeout, "no script run finished after the action")
    wait_idle(page, timeout)
    next_frames(page)


def rerun(page: Any, action: Callable[[], object], timeout: float = 60.0) -> None:
    """Does `action` (a click, a key press, an upload) and waits until the script run it caused is over."""
    before = script_runs(page).finished
    action()
    wait_run_finished(page, before, timeout)


def wait_settled(page: Any, quiet: float = 0.5, timeout: float = 60.0) -> None:
    """Until every script run that started has finished and the server has sent nothing for `quiet` seconds
    (after several quick inputs, e.g. key presses, each of which may start a run).

    A run replaced by another (a polling fragment's run when the page reruns) may end without its own
    "finished" message: after `quiet` seconds of silence the page's own "notRunning" settles it too."""
    runs = script_runs(page)

    def settled() -> bool:
        if time.monotonic() - runs.last_message <= quiet:
            return False
        return runs.finished >= runs.started or page.locator(IDLE_APP).count() == 1

    _poll(page, settled, timeout, "the app did not settle")
    wait_idle(page, timeout)
    next_frames(page)


DRAWN_JS = """
() => {
    const main = document.querySelector('[data-testid="stMain"]');
    if (!main || main.querySelector('[data-testid="stSkeleton"]')) return null;
    if (![...main.querySelectorAll('img')].every(img => img.complete)) return null;
    if (![...main.querySelectorAll('.js-plotly-plot')].every(chart => chart._fullLayout)) return null;
    return `${main.scrollWidth}x${main.scrollHeight}`;
}
"""


def wait_drawn(page: Any, timeout: float = 30.0) -> None:
    """Until the page shows what the runs sent: no placeholder left, every picture loaded, every chart laid out,
    and the main column's size the same over a few frames (a late picture or chart would change it)."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        size = page.evaluate(DRAWN_JS)
        if size is not None and size == last:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"the page was not drawn within {timeout:g} s")
        last = size
        next_frames(page)
        page.wait_for_timeout(50)


# The script-state changes with their times, for the benchmark's breakdown of a run (the DOM may miss a
# quick run's states, see ScriptRuns; the benchmark reads them only for runs long enough to show).
STATE_TIMELINE_JS = """
() => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (window.__stStates === undefined) {
        window.__stStates = [];  // [state, performance.now()] of every change
        new MutationObserver(() => {
            window.__stStates.push([app.getAttribute('data-test-script-state'), performance.now()]);
        }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
    }
}
"""


def image(page: Any, caption: str) -> Any:
    """The <img> of the st.image whose caption contains `caption` (the first one)."""
    return page.locator('[data-testid="stImage"]').filter(has_text=caption).locator("img").first


def image_loaded(page: Any, caption: str) -> bool:
    return bool(image(page, caption).evaluate("img => img.complete && img.naturalWidth > 0"))


def wait_image_loaded(page: Any, caption: str, timeout: float = 60.0) -> str:
    """Waits until the captioned image is shown and its picture has loaded; returns its src."""
    img = image(page, caption)
    img.wait_for(state="visible", timeout=timeout * 1000)
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=img.element_handle(), timeout=timeout * 1000
    )
    return img.get_attribute("src")


def wait_src_change(page: Any, caption: str, old_src: str, timeout: float = 30.0) -> str:
    """Waits until the captioned image shows another picture than `old_src` (and it has loaded); the new src."""
    page.wait_for_function(
        """([caption, old]) => {
            const box = [...document.querySelectorAll('[data-testid="stImage"]')]
                .find(e => e.textContent.includes(caption));
            const img = box && box.querySelector('img');
            return img && img.src !== old && img.complete && img.naturalWidth > 0;
        }""",
        arg=[caption, old_src],
        timeout=timeout * 1000,
    )
    return image(page, caption).get_attribute("src")


def open_view(page: Any, view: str) -> None:
    """Clicks a view's link in the sidebar navigation and waits for its run to end."""
    # By the title's own text element, exactly: the link's whole text also holds its icon's ligature, and
    # has_text matches substrings regardless of case ("Training" is inside "model_training Train a model").
    title = page.get_by_text(VIEW_TITLES[view], exact=True)
    link = page.get_by_test_id("stSidebarNavLink").filter(has=title)
    expand = page.get_by_test_id("stExpandSidebarButton")
    folded = expand.count() and not _on_screen(page, link)  # a phone: the sidebar is folded away until asked for
    if folded:
        expand.first.click()
        _poll(page, lambda: _on_screen(page, link), 10.0, "the sidebar did not open")
    rerun(page, link.click)
    if folded:  # and folded again, as a phone's user does, so it covers nothing
        collapse = page.get_by_test_id("stSidebarCollapseButton")
        if collapse.count() and _on_screen(page, link):
            collapse.first.click(force=True)
            _poll(page, lambda: not _on_screen(page, link), 10.0, "the sidebar did not fold")


def _on_screen(page: Any, locator: Any) -> bool:
    box = locator.bounding_box()
    return box is not None and box["x"] + box["width"] > 0 and box["x"] < page.viewport_size["width"]


def goto_app(page: Any, url: str, timeout: float = 90.0, ready: str = LIVE_SLIDERS_READY) -> None:
    """Opens the app and waits for `ready` (by default the sliders' digit, decoded in the page: the default
    view) and the end of the first run."""
    _RUNS[page] = ScriptRuns(page)  # before the page opens its websocket
    page.goto(url)
    page.wait_for_selector(ready, state="attached", timeout=timeout * 1000)
    wait_idle(page, timeout)


def screenshot(page: Any, path: Path, whole: bool = True) -> bytes:
    """A PNG of the page. Streamlit scrolls inside its own container, so Playwright's full_page sees only the
    viewport: for the whole page, the viewport is made as tall as the content for the shot, then restored."""
    path.parent.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    height = page.evaluate(
        """() => Math.max(...[...document.querySelectorAll('[data-testid="stMain"], [data-testid="stSidebar"]')]
                 .map(e => e.scrollHeight), window.innerHeight)"""
    )
    if whole and height > size["height"]:
        page.set_viewport_size({"width": size["width"], "height": min(int(height), 6000)})
        page.wait_for_timeout(500)  # relayout (Plotly redraws on resize)
    try:
        # In CSS pixels: a phone's three device pixels per CSS pixel made each shot nine times the pixels to paint
        # and encode, for a picture that shows nothing more.
        return page.screenshot(path=str(path), scale="css")
    finally:
        if whole and height > size["height"]:
            page.set_viewport_size(size)


def exceptions(page: Any) -> list[str]:
    return page.locator('[data-testid="stException"]').all_inner_texts()


def fetch_bytes(page: Any, src: str) -> bytes:
    """The bytes behind an <img> src (Streamlit's media endpoint), fetched in the page's session."""
    answer = page.request.get(src)
    assert answer.ok, f"GET {src}: {answer.status}"
    return answer.body()


# ---------------------------------------------------------------- Plotly maps

PLOTLY_POINTS_JS = """
(gd) => {
    const layout = gd._fullLayout;
    const xa = layout.xaxis, ya = layout.yaxis;
    const box = gd.getBoundingClientRect();
    const points = [];
    // _fullData, not data: plotly.py sends numpy arrays base64-encoded, _fullData holds them decoded.
    gd._fullData.forEach((trace, t) => {
        if (!trace.customdata || !trace.x || !/^[0-9]$/.test(trace.name)) return;
        for (let i = 0; i < trace.x.length; i++) {
            const custom = trace.customdata[i];
            const row = custom !== null && typeof custom === "object" ? custom[0] : custom;
            points.push([t, Number(row),
                box.left + xa._offset + xa.l2p(trace.x[i]), box.top + ya._offset + ya.l2p(trace.y[i])]);
        }
    });
    return {points, plot: [box.left + xa._offset, box.top + ya._offset, xa._length, ya._length],
            traces: gd._fullData.map(t => t.name)};
}
"""


def plotly_points(chart: Any) -> dict:
    """Every digit point of a map (trace, row id, page x, page y) and the plot area [left, top, width, height].

    Page coordinates come from Plotly's own axes (l2p + offset), so a mouse click lands exactly on the point.
    Only the digit traces count (the ones named by their digit, carrying row ids in customdata).
    """
    return chart.locator(".js-plotly-plot").first.evaluate(PLOTLY_POINTS_JS)


def isolated_points(points: list, plot: Sequence[float], count: int, margin: float = 25.0) -> list:
    """`count` points, each from another digit trace, far from their neighbours: a click picks exactly them."""
    import numpy as np
    from sklearn.neighbors import NearestNeighbors

    xy = np.array([[p[2], p[3]] for p in points], dtype=np.float64)
    distance, _ = NearestNeighbors(n_neighbors=2).fit(xy).kneighbors(xy)
    gap = distance[:, 1]
    left, top, width, height = plot
    inside = (
        (xy[:, 0] > left + margin)
        & (xy[:, 0] < left + width - margin)
        & (xy[:, 1] > top + 60)  # below the mode bar
        & (xy[:, 1] < top + height - margin)
    )
    chosen: list = []
    for i in np.argsort(-np.where(inside, gap, -1.0)):
        if len(chosen) == count or not inside[i]:
            break
        if all(points[i][0] != c[0] for c in chosen):
            chosen.append(points[i])
    return chosen


def webgl_colour_pixels(png: bytes) -> int:
    """How many strongly coloured pixels a screenshot holds: a blank (unrendered) WebGL map has none."""
    import numpy as np

    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)
    return int(((rgb.max(axis=2) - rgb.min(axis=2)) > 60).sum())


# ---------------------------------------------------------------- test images


def digit_png(kind: str = "seven", size: int = 200) -> bytes:
    """A hand-drawn-looking digit, black ink on white paper, as PNG bytes."""
    picture = Image.new("L", (size, size), 255)
    draw = ImageDraw.Draw(picture)
    s = size / 200
    if kind == "seven":
        draw.line([(50 * s, 40 * s), (150 * s, 40 * s), (90 * s, 170 * s)], fill=0, width=round(18 * s))
    elif kind == "zero":
        draw.ellipse([(60 * s, 30 * s), (140 * s, 170 * s)], outline=0, width=round(18 * s))
    else:
        raise ValueError(kind)
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return buffer.getvalue()


def draw_stroke(page: Any, box: dict, points: Sequence[tuple[float, float]], steps: int = 10) -> None:
    """Draws one stroke with the mouse through `points` (pixels from the top left of `box`)."""
    x0, y0 = box["x"], box["y"]
    page.mouse.move(x0 + points[0][0], y0 + points[0][1])
    page.mouse.down()
    for (ax, ay), (bx, by) in itertools.pairwise(points):
        for k in range(1, steps + 1):
            page.mouse.move(x0 + ax + (bx - ax) * k / steps, y0 + ay + (by - ay) * k / steps)
    page.mouse.up()


def upload(page: Any, name: str, data: bytes, mime: str = "image/png") -> None:
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
        {"name": name, "mimeType": mime, "buffer": data}
    )
