"""The explorer on a phone (Chromium's mobile emulation: 390×844, touch events, no hover) and for every reader
(axe-core's WCAG 2.0/2.1 A and AA rules; the keyboard alone).

    .venv/bin/python -m pytest -n 0 -p no:cacheprovider tests/browser/test_phone.py

axe-core is pinned in package.json (scripts/test.sh installs it with npm ci). Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np
import pytest
from playwright.sync_api import expect

from harness import browser as bs
from harness import components as ls
from harness import phone as ph
from support.browser import ARTIFACTS, IN_CI, assert_no_exception, needs_atlas, watched_page

pytestmark = pytest.mark.browser

VIEWS = list(bs.VIEW_TITLES)
# What a view shows only after a pick, opened by its link: the map's panel (its pictures, its buttons).
PICKED = {"map": "pick=42"}


def query(view: str, *more: str) -> str:
    parts = [p for p in (PICKED.get(view, ""), *more) if p]
    return "?" + "&".join(parts) if parts else ""


def open_at(page, url: str, view: str, query: str = "") -> None:
    """Opens a view by its address (a phone's sidebar is folded away) and waits for its runs to end."""
    bs._RUNS[page] = bs.ScriptRuns(page)  # before the page opens its websocket
    page.goto((f"{url}/" if view == "sliders" else f"{url}/{view}") + query)
    bs.wait_idle(page, 90)
    bs.wait_settled(page, quiet=1.0, timeout=90)


@pytest.fixture
def phone(browser, server, request) -> Iterator:
    """A fresh session in a 390×844 touch-screen browser (nothing opened yet: open_at)."""
    yield from watched_page(ph.phone_context(browser), server, request)


@pytest.fixture
def desktop(browser, server, request) -> Iterator:
    yield from watched_page(browser.new_context(viewport=ph.DESKTOP), server, request)


def map_chart(page, key: str):
    chart = page.locator(f".st-key-{key}")
    chart.locator(".js-plotly-plot .gl-container canvas").first.wait_for(state="attached", timeout=60_000)
    page.wait_for_function(
        "k => { const gd = document.querySelector(`.st-key-${k} .js-plotly-plot`); return gd && gd._fullLayout; }",
        arg=key,
    )
    page.wait_for_timeout(500)
    return chart


def marked_rows(page, key: str) -> list[int]:
    layer = page.locator(f".st-key-{key} .map-marks")
    return json.loads(layer.get_attribute("data-rows") or "[]") if layer.count() else []


def visible_points(page, chart, count: int) -> list:
    """`count` isolated digit points of different digits inside the viewport, as (trace, row, x, y)."""
    chart.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    found = bs.plotly_points(chart)
    left, top, width, height = found["plot"]
    view = page.viewport_size
    # Inside both the plot and the screen, clear of the figure's toggle in its bottom-left corner.
    plot = [
        max(left, 0),
        max(top, 0),
        min(left + width, view["width"]) - max(left, 0),
        min(top + height, view["height"] - 60) - max(top, 0),
    ]
    return bs.isolated_points(found["points"], plot, count, margin=20)


def test_one_tap_on_the_map_picks_the_tapped_digit(phone, server):
    needs_atlas()
    open_at(phone, server.url, "map")
    chart = map_chart(phone, "tsne_map")
    points = visible_points(phone, chart, 4)
    assert len(points) == 4, points
    for _, row, x, y in points:
        bs.rerun(phone, lambda x=x, y=y: phone.touchscreen.tap(x, y))
        phone.wait_for_timeout(300)
        assert marked_rows(phone, "tsne_map") == [row], f"tapped #{row}, the map marks {marked_rows(phone, 'tsne_map')}"
        # The pick is said in words too, for a screen reader.
        assert phone.get_by_text(f"test #{row}", exact=False).first.is_visible()
    ph.look(phone, ARTIFACTS, "phone_map_tapped", whole=False)
    assert_no_exception(phone)


def test_taps_on_the_morph_map_set_a_then_b(phone, server):
    needs_atlas()
    open_at(phone, server.url, "morph")
    chart = map_chart(phone, "morph_map")
    (_, a, xa, ya), (_, b, xb, yb) = visible_points(phone, chart, 2)
    bs.rerun(phone, lambda: phone.touchscreen.tap(xa, ya))
    bs.wait_settled(phone)
    assert phone.get_by_label("Digit A: test #").input_value() == str(a)
    chart.scroll_into_view_if_needed()
    (_, _, xb, yb), *_ = [p for p in visible_points(phone, chart, 3) if p[1] == b] or [(0, b, xb, yb)]
    bs.rerun(phone, lambda: phone.touchscreen.tap(xb, yb))
    bs.wait_settled(phone)
    assert phone.get_by_label("Digit A: test #").input_value() == str(a)
    assert phone.get_by_label("Digit B: test #").input_value() == str(b)
    ph.look(phone, ARTIFACTS, "phone_morph_tapped", whole=False)
    assert_no_exception(phone)


def test_a_swipe_over_a_figure_scrolls_the_page(phone, server):
    needs_atlas()
    open_at(phone, server.url, "map")
    chart = map_chart(phone, "tsne_map")
    box = chart.locator(".js-plotly-plot .nsewdrag").first.bounding_box()
    phone.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollTo(0, 0)")
    chart.scroll_into_view_if_needed()
    box = chart.locator(".js-plotly-plot .nsewdrag").first.bounding_box()
    before = ph.main_scroll(phone)
    ranges = chart.locator(".js-plotly-plot").evaluate(
        "gd => JSON.stringify([gd._fullLayout.xaxis.range, gd._fullLayout.yaxis.range])"
    )
    cdp = phone.context.new_cdp_session(phone)
    x = box["x"] + box["width"] / 2
    y = min(box["y"] + box["height"] * 0.7, 780)
    ph.swipe(phone, cdp, (x, y), (x, y - 300))
    phone.wait_for_timeout(800)
    after = ph.main_scroll(phone)
    assert after - before > 100, f"a 300-px swipe over the map scrolled the page {after - before:.0f} px"
    same = chart.locator(".js-plotly-plot").evaluate(
        "gd => JSON.stringify([gd._fullLayout.xaxis.range, gd._fullLayout.yaxis.range])"
    )
    assert same == ranges, "the swipe panned the map"


def test_pan_and_zoom_turned_on_pans_with_one_finger_and_pinches_with_two(phone, server):
    needs_atlas()
    open_at(phone, server.url, "map")
    chart = map_chart(phone, "tsne_map")
    chart.scroll_into_view_if_needed()
    toggle = chart.locator(".figure-pan-toggle")
    assert toggle.get_attribute("aria-pressed") == "false" and toggle.bounding_box()["height"] >= 44
    toggle.tap()
    assert toggle.get_attribute("aria-pressed") == "true"
    gd = chart.locator(".js-plotly-plot")
    span = "gd => gd._fullLayout.xaxis.range[1] - gd._fullLayout.xaxis.range[0]"
    left = "gd => gd._fullLayout.xaxis.range[0]"
    box = chart.locator(".js-plotly-plot .nsewdrag").first.bounding_box()
    x, y = box["x"] + box["width"] / 2, min(box["y"] + box["height"] / 2, 600)
    before_scroll, before_left, before_span = ph.main_scroll(phone), gd.evaluate(left), gd.evaluate(span)
    cdp = phone.context.new_cdp_session(phone)
    ph.swipe(cdp=cdp, page=phone, start=(x, y), end=(x - 80, y - 120))
    phone.wait_for_timeout(500)
    assert ph.main_scroll(phone) == before_scroll, "with pan and zoom on, a swipe over the map scrolled the page"
    assert gd.evaluate(left) > before_left, "one finger did not pan the map"
    # Two fingers moving apart zoom in.
    start = [{"x": x - 30, "y": y, "id": 1}, {"x": x + 30, "y": y, "id": 2}]
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": start})
    for k in range(1, 11):
        points = [{"x": x - 30 - 8 * k, "y": y, "id": 1}, {"x": x + 30 + 8 * k, "y": y, "id": 2}]
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": points})
        phone.wait_for_timeout(20)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    phone.wait_for_timeout(500)
    assert gd.evaluate(span) < 0.7 * before_span, "a pinch did not zoom in"
    ph.look(phone, ARTIFACTS, "phone_map_pinched", whole=False)
    chart.locator(".figure-reset").tap()
    phone.wait_for_function(
        f"gd => Math.abs(({span})(gd) - {before_span}) < 0.05 * {before_span}", arg=gd.element_handle()
    )


def test_a_vertical_swipe_over_the_sliders_scrolls_and_changes_no_value(phone, server):
    open_at(phone, server.url, "sliders")
    phone.wait_for_selector(bs.LIVE_SLIDERS_READY, state="attached", timeout=90_000)
    slider = phone.locator(f"{ls.SLIDERS} .live-range").nth(3)
    slider.scroll_into_view_if_needed()
    phone.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollBy(0, 200)")
    phone.wait_for_timeout(300)
    box = slider.bounding_box()
    code = ls.page_code(phone)
    before = ph.main_scroll(phone)
    cdp = phone.context.new_cdp_session(phone)
    x, y = box["x"] + box["width"] * 0.3, box["y"] + box["height"] / 2
    ph.swipe(phone, cdp, (x, y), (x + 4, y - 250))
    phone.wait_for_timeout(800)
    assert ph.main_scroll(phone) - before > 80, "a vertical swipe that started on a slider did not scroll"
    assert ls.page_code(phone) == code, "a vertical swipe moved a slider"


def test_a_horizontal_drag_moves_the_slider_and_the_picture_follows_in_view(phone, server):
    open_at(phone, server.url, "sliders")
    phone.wait_for_selector(bs.LIVE_SLIDERS_READY, state="attached", timeout=90_000)
    slider = phone.locator(f"{ls.SLIDERS} .live-range").nth(15)  # a low one: the picture must stay in view
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    before = ls.canvas_digit(phone, f"{ls.SLIDERS} canvas").astype(int)
    frames = ls.frames(phone)
    cdp = phone.context.new_cdp_session(phone)
    y = box["y"] + box["height"] / 2
    x0, x1 = box["x"] + box["width"] / 2, box["x"] + box["width"] * 0.95
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x0, "y": y}]})
    for k in range(1, 13):
        cdp.send(
            "Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x0 + (x1 - x0) * k / 12, "y": y}]}
        )
        phone.wait_for_timeout(16)
    # The finger is still down: the digit has changed, and it is on the screen.
    during = ls.canvas_digit(phone, f"{ls.SLIDERS} canvas").astype(int)
    canvas = phone.locator(f"{ls.SLIDERS} canvas").bounding_box()
    ph.look(phone, ARTIFACTS, "phone_slider_drag", whole=False)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    assert ls.frames(phone) > frames and int((np.abs(during - before) > 16).sum()) > 5
    assert canvas["y"] >= 0 and canvas["y"] + canvas["height"] <= ph.PHONE["height"], canvas
    assert slider.bounding_box()["y"] > canvas["y"] + canvas["height"] - 1  # not hidden under the picture
    bs.wait_settled(phone)


def screen_faults(page, size: str, view: str) -> dict[str, object]:
    """What does not fit: anything wider than the screen, labels cut off, and on a phone controls under
    44 × 44 px."""
    faults: dict[str, object] = {}
    found = ph.wider_than_viewport(page)
    if found["wide"] or found["scrollWidth"] > found["width"]:
        faults[view] = found
    if cut := ph.cut_text(page):
        faults[f"{view}: labels cut"] = cut
    if size == "phone" and (small := ph.small_targets(page)):
        faults[f"{view}: touch targets under 44 px"] = small
    return faults


def upload_checkpoint(page) -> None:
    """Makes a copy of the 2-D model this session's own (as a model trained in the app is: no record file)."""
    sidebar = page.get_by_test_id("stSidebar")
    bs.rerun(page, lambda: sidebar.get_by_text("Upload a checkpoint…").click())
    payload = (bs.REPO / "checkpoints" / "vae_d2.safetensors").read_bytes()
    bs.rerun(page, lambda: bs.upload(page, "my_model.safetensors", payload, "application/octet-stream"))
    bs.wait_settled(page)
    assert page.get_by_text("Model: my_model.safetensors").is_visible()


@pytest.mark.parametrize(
    ("size", "model"),
    [("phone", "vae_d20"), ("phone", "vae_d2"), ("phone", "ae_d20"), ("desktop", "vae_d20"), ("desktop", "uploaded")],
)
def test_every_view_fits_the_screen_and_axe_finds_no_serious_violation(size, model, request, server):
    """Every view, for each shipped model and a session's own one (uploaded: it has no record, like one trained
    here), on a phone and a desktop: nothing wider than the screen or cut off, on a phone every control at
    least 44 × 44 px, and no serious or critical violation of the WCAG 2.0/2.1 A and AA rules."""
    if not ph.axe_ready():
        reason = f"axe-core is not installed ({ph.AXE}): npm ci"
        if IN_CI:
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    if model != "uploaded" and not (bs.REPO / "checkpoints" / f"{model}.safetensors").is_file():
        pytest.skip(f"checkpoints/{model}.safetensors is not there")
    page = request.getfixturevalue(size)  # only the one asked for: each opens its own browser context
    if model == "uploaded":
        bs.goto_app(page, server.url)
        upload_checkpoint(page)
    found, faults = {}, {}
    for view in VIEWS:
        if model == "uploaded":  # the session keeps its model: move by the sidebar, not by a new address
            bs.open_view(page, view)
            if view == "map":
                page.get_by_text("Building its map", exact=False).wait_for(state="detached", timeout=120_000)
            bs.wait_settled(page)
        else:
            open_at(page, server.url, view, query(view, f"model={model}"))
        bs.wait_drawn(page)
        faults |= screen_faults(page, size, view)
        if model == "vae_d20":
            ph.look(page, ARTIFACTS, f"{size}_{view}")
        violations = ph.axe_violations(page)
        if violations:
            found[view] = ph.describe(violations)
    assert not faults, json.dumps(faults, indent=1)
    assert not found, "\n".join(f"--- {view}\n{text}" for view, text in found.items())


# The focused element, through shadow roots (the components draw in one).
DEEP = """const deep = () => { let e = document.activeElement; while (e && e.shadowRoot && e.shadowRoot.activeElement)
    e = e.shadowRoot.activeElement; return e; };"""
ACTIVE_JS = f"() => {{ {DEEP} const e = deep(); return e ? e.outerHTML.slice(0, 120) : null; }}"


def focused(page, selector: str, then: str = "true") -> object:
    """`then` (a JS expression of e) when the focused element matches `selector`, else False."""
    return page.evaluate(f"() => {{ {DEEP} const e = deep(); return !!e && e.matches('{selector}') && ({then}); }}")


def test_the_keyboard_alone_drives_the_sliders_and_the_pad(desktop, server):
    page = desktop
    open_at(page, server.url, "sliders")
    page.wait_for_selector(bs.LIVE_SLIDERS_READY, state="attached", timeout=90_000)
    # Tab from the top of the page reaches a slider, with a visible focus ring.
    for _ in range(120):
        page.keyboard.press("Tab")
        if focused(page, ".live-range"):
            break
    else:
        pytest.fail(f"Tab never reached a latent slider: it is on {page.evaluate(ACTIVE_JS)}")
    outline = focused(page, ".live-range", "getComputedStyle(e).outlineStyle")
    assert outline not in ("none", ""), outline
    dim = int(focused(page, ".live-range", "e.dataset.dim"))
    for _ in range(30):
        page.keyboard.press("ArrowRight")
    assert ls.page_code(page)[dim] == pytest.approx(0.3)
    bs.wait_settled(page)
    # The pad: reached by Tab, arrows move its point, Enter pins it (the sliders take the code).
    for _ in range(80):
        page.keyboard.press("Tab")
        if focused(page, ".pad-plane"):
            break
    else:
        pytest.fail(f"Tab never reached the latent pad: it is on {page.evaluate(ACTIVE_JS)}")
    start = ls.page_code(page)
    x0, y0 = json.loads(ls.dataset(page, ls.PAD)["point"])
    for key in ["ArrowRight"] * 5 + ["ArrowUp"] * 3:
        page.keyboard.press(key)
    x1, y1 = json.loads(ls.dataset(page, ls.PAD)["point"])
    assert x1 > x0 and y1 > y0, f"the arrows moved the pad's point from {(x0, y0)} to {(x1, y1)}"
    bs.rerun(page, lambda: page.keyboard.press("Enter"))
    bs.wait_settled(page)
    for _ in range(100):  # the sliders draw the pinned code once the server's answer arrives (later under load)
        if ls.page_code(page) != start:
            break
        page.wait_for_timeout(100)
    assert ls.page_code(page) != start, "Enter did not pin the pad's point"
    assert_no_exception(page)


def test_a_digit_drawn_with_a_finger_gets_its_verdict(phone, server) -> None:
    """The third thing students come for, on a phone: draw a 7 with a finger on the canvas, read the verdict."""
    open_at(phone, server.url, "digit")
    bs.rerun(phone, phone.get_by_text("Draw", exact=True).click)
    canvas = phone.locator("canvas").first
    expect(canvas).to_be_visible()
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390  # on the screen, whole
    cdp = phone.context.new_cdp_session(phone)
    points = [(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)]  # a 7: the top bar, then the stem
    corners = [(box["x"] + fx * box["width"], box["y"] + fy * min(box["height"], box["width"])) for fx, fy in points]

    def stroke() -> None:
        ph.swipe(phone, cdp, corners[0], corners[1])
        ph.swipe(phone, cdp, corners[1], corners[2])

    bs.rerun(phone, stroke)
    bs.wait_image_loaded(phone, bs.RECONSTRUCTION_IMAGE)
    expect(phone.get_by_text("Reads as a 7")).to_be_visible(timeout=30_000)
    ph.look(phone, ARTIFACTS, "phone_drawn_seven")
