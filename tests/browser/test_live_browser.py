"""The in-page decoder in Chromium: the digit follows a slider thumb while the mouse is still down, the
server hears the code once when the drag ends, the page's pixels are the server's (within 1/255), and the
latent pad decodes under the pointer with its crosshair. Runs the bare page tests/support/apps/decoder_demo.py.

    .venv/bin/python -m pytest -m browser tests/browser/test_live_browser.py
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from harness import browser as bs
from harness import components as ls

pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install -r requirements-dev.txt)")
from playwright.sync_api import expect, sync_playwright

pytestmark = pytest.mark.browser

CHECKPOINTS = bs.REPO / "checkpoints"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
SERVER_DECODE = "server decode"


def shot(page, name: str) -> None:
    bs.screenshot(page, ARTIFACTS / f"live_{name}.png")


@pytest.fixture(scope="module")
def browser() -> Iterator:
    if not bs.CHROMIUM.is_file():
        pytest.skip(f"no Chromium at {bs.CHROMIUM}")
    with sync_playwright() as playwright:
        chromium = bs.launch_chromium(playwright)
        yield chromium
        chromium.close()


def demo_server(name: str) -> Iterator[ls.PageServer]:
    checkpoint = CHECKPOINTS / f"{name}.safetensors"
    if not checkpoint.is_file():
        pytest.skip(f"{checkpoint} is not there")
    ARTIFACTS.mkdir(exist_ok=True)
    with ls.PageServer(ls.DEMO, [str(checkpoint)], ARTIFACTS / f"live_server_{name}.log") as app:
        app.wait_healthy(90)
        yield app


@pytest.fixture(scope="module")
def server_d20() -> Iterator[ls.PageServer]:
    yield from demo_server("vae_d20")


@pytest.fixture(scope="module")
def server_d2() -> Iterator[ls.PageServer]:
    yield from demo_server("vae_d2")


def fresh_page(browser, url: str, ready: str) -> Iterator:
    context = browser.new_context(viewport=bs.VIEWPORT)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    received: list[int] = []  # sizes of the server's websocket messages
    page.on("websocket", lambda socket: socket.on("framereceived", lambda data: received.append(len(data))))
    page.received = received
    try:
        ls.open_page(page, url, ready)
        yield page
    finally:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def page(browser, server_d20) -> Iterator:
    yield from fresh_page(browser, server_d20.url, ls.SLIDERS)


@pytest.fixture
def pad_page(browser, server_d2) -> Iterator:
    yield from fresh_page(browser, server_d2.url, ls.PAD)


def server_digit(page) -> np.ndarray:
    """The server's own decode of the code it holds (shown 4× enlarged by the demo page)."""
    src = bs.wait_image_loaded(page, SERVER_DECODE)
    picture = np.asarray(Image.open(io.BytesIO(bs.fetch_bytes(page, src))).convert("L"), dtype=np.uint8)
    return picture[2::4, 2::4]


def server_code(page) -> tuple[int, list[float]]:
    text = page.locator("code").first.inner_text()
    commits = int(re.search(r"commits=(\d+)", text).group(1))
    code = [float(v) for v in re.search(r"code=\[([^\]]*)\]", text).group(1).split(",")]
    return commits, code


def test_the_digit_follows_the_thumb_while_the_mouse_is_down_and_the_server_hears_the_end(page):
    runs = bs.script_runs(page)
    started = runs.started
    left, right, y = ls.slider_track(page, 0)
    page.mouse.move((left + right) / 2, y)
    page.mouse.down()
    seen, counts = [], []
    for x in (left + 0.2 * (right - left), left + 0.8 * (right - left), left + 0.35 * (right - left)):
        page.mouse.move(x, y, steps=3)
        seen.append(ls.canvas_digit(page, f"{ls.SLIDERS} canvas"))
        counts.append(ls.frames(page))
    shot(page, "dragging")
    assert runs.started == started, "the server ran the script while the thumb was still held"
    assert counts[0] < counts[1] < counts[2]
    assert all(np.abs(a.astype(int) - b).max() > 20 for a, b in [(seen[0], seen[1]), (seen[1], seen[2])])
    bs.rerun(page, page.mouse.up)
    bs.wait_settled(page)
    commits, code = server_code(page)
    assert commits == 1 and runs.started == started + 1  # one event for the whole drag
    assert np.allclose(code, ls.page_code(page))
    assert code[int(page.locator(f"{ls.SLIDERS} .live-range").first.get_attribute("data-dim"))] != 0.0
    shown = ls.canvas_digit(page, f"{ls.SLIDERS} canvas").astype(int)
    assert np.abs(shown - server_digit(page)).max() <= 1  # the page's pixels are the server's


def test_a_code_from_the_server_is_drawn_with_the_server_pixels_and_not_resent_weights(page):
    weights_bytes = max(page.received)
    assert weights_bytes > 500_000  # the first run carried the decoder (float16, base64)
    page.received.clear()
    bs.rerun(page, page.get_by_role("button", name="Randomise").click)
    bs.wait_settled(page)
    assert max(page.received) < 100_000, "a rerun sent the decoder's weights again"
    _, code = server_code(page)
    assert np.allclose(ls.page_code(page), code, atol=1e-9)
    shown = ls.canvas_digit(page, f"{ls.SLIDERS} canvas").astype(int)
    assert np.abs(shown - server_digit(page)).max() <= 1


def test_a_value_beyond_the_range_is_kept_and_shown_as_such(page):
    bs.rerun(page, page.get_by_role("button", name="Far out").click)  # z0 = 8.5, the range is ±6
    bs.wait_settled(page)
    row = page.locator(f'{ls.SLIDERS} .live-range[data-dim="0"]').locator("xpath=..")
    assert "outside" in row.get_attribute("class")
    assert "8.50" in row.inner_text()
    assert ls.page_code(page)[0] == 8.5  # not clipped to 6
    shot(page, "beyond_range")
    shown = ls.canvas_digit(page, f"{ls.SLIDERS} canvas").astype(int)
    assert np.abs(shown - server_digit(page)).max() <= 1


def test_hovering_the_pad_decodes_under_the_pointer_and_moves_the_crosshair(pad_page):
    page = pad_page
    runs = bs.script_runs(page)
    started = runs.started
    plane = page.locator(f"{ls.PAD} .pad-plane")
    plane.scroll_into_view_if_needed()
    box = plane.bounding_box()
    digits, crosshairs = [], []
    for u, v in ((0.25, 0.3), (0.7, 0.65)):
        page.mouse.move(box["x"] + u * box["width"], box["y"] + v * box["height"])
        crosshairs.append(np.array(ls.dataset(page, ls.PAD)["crosshair"][1:-1].split(","), dtype=float))
        digits.append(ls.canvas_digit(page, f"{ls.PAD} .pad-digit").astype(int))
        assert np.allclose(crosshairs[-1], (u, v), atol=0.01)
    assert np.abs(digits[0] - digits[1]).max() > 20
    assert runs.started == started  # hovering is the page's business
    point = ls.page_code(page, ls.PAD)
    bs.rerun(page, lambda: page.mouse.click(box["x"] + 0.7 * box["width"], box["y"] + 0.65 * box["height"]))
    bs.wait_settled(page)
    pinned = [
        float(v) for v in re.search(r"pin=\[([^\]]*)\]", page.locator("code").nth(1).inner_text()).group(1).split(",")
    ]
    assert np.allclose(pinned, point, atol=0.03)  # a pixel is 0.022 here
    shot(page, "pad_pinned")


def test_keys_pressed_while_a_commit_is_answered_are_kept(browser, server_d20):
    """Arrow keys pressed after a commit left and before its reply came back stay: the reply (the code the
    server heard) does not pull the thumb back over them, and the next commit carries them."""
    context = browser.new_context(viewport=bs.VIEWPORT)
    page = context.new_page()
    relay: dict = {"hold": False, "held": [], "socket": None}

    def route(socket) -> None:  # the page's websocket through the test, which can hold the server's replies
        server = socket.connect_to_server()
        relay["socket"] = socket

        def to_page(message) -> None:
            if relay["hold"]:
                relay["held"].append(message)
            else:
                socket.send(message)

        server.on_message(to_page)
        socket.on_message(server.send)

    page.route_web_socket(re.compile(r".*/_stcore/stream"), route)
    try:
        ls.open_page(page, server_d20.url, ls.SLIDERS)
        start = ls.page_code(page)[0]
        page.locator(f'{ls.SLIDERS} .live-range[data-dim="0"]').focus()
        relay["hold"] = True
        for _ in range(5):
            page.keyboard.press("ArrowRight")
        expect(page.locator(ls.SLIDERS).first).to_have_attribute("data-seq", re.compile(r"\d+"))  # it left
        page.wait_for_timeout(800)  # the server hears the commit and answers; the answer waits in the relay
        assert relay["held"], "the server did not answer the commit"
        for _ in range(5):
            page.keyboard.press("ArrowRight")
        relay["hold"] = False
        for message in relay["held"]:
            relay["socket"].send(message)
        page.wait_for_timeout(1000)  # the second commit leaves 300 ms after the last key, and is answered
        bs.wait_settled(page)
        assert ls.page_code(page)[0] == pytest.approx(start + 0.10)
        assert server_code(page)[1][0] == pytest.approx(start + 0.10, abs=1e-6)
    finally:
        context.close()
