"""The explorer in a real browser: `streamlit run app.py` served on a free port, driven by Playwright in
Debian's Chromium (WebGL through SwiftShader), with real keyboard, mouse and file-upload input.

    .venv/bin/python -m pytest -m browser tests/browser/test_browser.py

The Chromium, server and page fixtures are in tests/browser/conftest.py. Skipped while the shipped
default checkpoint (or, for the map, its atlas) is not there yet.
A screenshot of every step goes to tests/artifacts/, with the server's log.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from harness import browser as bs
from harness import components as ls
from support.browser import DEFAULT, DEFAULT_ATLAS, assert_no_exception, needs_atlas, shot
from vae.checkpoint import load_checkpoint
from vae.codes import decode_code

pytestmark = pytest.mark.browser


def test_the_page_loads_with_a_decoded_digit_and_no_error(page):
    shot(page, "1_loaded")
    assert page.title() == "VAE Latent Explorer"
    expect(page.get_by_role("heading", name="VAE Latent Explorer")).to_be_visible()
    expect(page.get_by_text(f"Model: {DEFAULT.name}")).to_be_visible()
    assert page.locator(f"{ls.SLIDERS} canvas").evaluate("c => c.getBoundingClientRect().width") == 280
    assert page.locator(f"{ls.SLIDERS} .live-range").count() == 20  # one slider per latent coordinate (d = 20)
    assert_no_exception(page)


def test_a_slider_moved_with_the_keyboard_changes_the_decoded_digit(page):
    before = ls.canvas_digit(page, f"{ls.SLIDERS} canvas").astype(int)
    thumb = page.locator(f"{ls.SLIDERS} .live-range").first  # with a map: the most used coordinate
    dim = int(thumb.get_attribute("data-dim"))
    runs = bs.script_runs(page)
    started, finished = runs.started, runs.finished
    thumb.focus()
    for _ in range(50):  # 50 steps of 0.01: half a prior standard deviation
        page.keyboard.press("ArrowRight")
    after = ls.canvas_digit(page, f"{ls.SLIDERS} canvas").astype(int)
    code = ls.page_code(page)
    assert code[dim] == 0.5 and sum(abs(v) for v in code) == 0.5
    changed = int((np.abs(after - before) > 16).sum())
    assert changed > 5, f"only {changed} of 784 pixels changed after moving z{dim}"
    # What the page draws is the server's decoding of the sliders' code, within 1/255.
    expected = decode_code(load_checkpoint(DEFAULT), code).astype(int)
    assert np.abs(after - expected).max() <= 1, f"the shown digit is not the decoding of z{dim} = 0.50"
    bs.wait_run_finished(page, finished)  # the keys commit once the user pauses
    bs.wait_settled(page)
    # One commit once the keys pause (a loaded machine may pause mid-burst too), never one per key press.
    assert 1 <= runs.started - started <= 3, f"{runs.started - started} script runs for 50 key presses"
    shot(page, "2_slider_moved")
    assert_no_exception(page)


def test_a_slider_dragged_with_the_mouse_changes_the_digit_while_the_mouse_is_down(page):
    before = ls.canvas_digit(page, f"{ls.SLIDERS} canvas").astype(int)
    runs = bs.script_runs(page)
    started = runs.started
    left, right, y = ls.slider_track(page, 1)
    page.mouse.move((left + right) / 2, y)
    page.mouse.down()
    page.mouse.move(left + 0.8 * (right - left), y, steps=8)  # a real drag: press, move, release
    during = ls.canvas_digit(page, f"{ls.SLIDERS} canvas").astype(int)
    assert runs.started == started and int((np.abs(during - before) > 16).sum()) > 5
    # The slice pad below follows the thumb in the page, before the server hears anything.
    for _ in range(50):  # it redraws on the next animation frame
        if np.allclose(ls.page_code(page, ls.PAD), ls.page_code(page)):
            break
        page.wait_for_timeout(50)
    assert np.allclose(ls.page_code(page, ls.PAD), ls.page_code(page)) and runs.started == started
    bs.rerun(page, page.mouse.up)
    assert runs.started == started + 1
    bs.wait_settled(page)
    dim = int(page.locator(f"{ls.SLIDERS} .live-range").nth(1).get_attribute("data-dim"))
    code = ls.page_code(page)
    assert code[dim] > 2.0
    # The commit reran the sliders' fragment alone; the pad still shows the slice through the new code.
    assert np.allclose(ls.page_code(page, ls.PAD), code)
    assert_no_exception(page)


def click_map_point(page, chart, exclude_traces: set[int]) -> tuple[int, str]:
    """Clicks an isolated digit on a Plotly map (positions from Plotly's own axes); (row id, digit) picked.

    Positions are recomputed before every try: each pick redraws the page, which can move the map a little.
    """
    for attempt in range(3):
        chart.scroll_into_view_if_needed()
        info = bs.plotly_points(chart)
        bottom = page.viewport_size["height"] - 10
        points = [p for p in info["points"] if p[0] not in exclude_traces and 0 < p[3] < bottom]
        trace, row, x, y = bs.isolated_points(points, info["plot"], 1)[0]
        digit = info["traces"][trace]
        try:
            bs.rerun(page, lambda x=x, y=y: page.mouse.click(x, y), timeout=20)
            expect(page.get_by_text(f"test #{row}: a {digit}")).to_be_visible(timeout=10_000)
            return row, digit
        except (AssertionError, PlaywrightError):
            if attempt == 2:
                raise
            page.wait_for_timeout(1000)
    raise AssertionError("unreachable")


def test_two_digits_clicked_on_the_map_are_morphed(page):
    needs_atlas()
    bs.open_view(page, "map")
    chart = page.get_by_test_id("stPlotlyChart").first
    chart.locator(".js-plotly-plot .gl-container canvas").first.wait_for(state="attached")
    page.wait_for_timeout(500)  # the WebGL draw follows the DOM
    coloured = bs.webgl_colour_pixels(chart.screenshot())
    assert coloured > 5000, f"the t-SNE map looks blank ({coloured} coloured pixels): is WebGL working?"
    shot(page, "3a_map")

    picked: list[tuple[int, str]] = []
    for _ in range(2):
        traces = {int(digit) for _, digit in picked}  # the second digit from another cluster
        row, digit = click_map_point(page, chart, traces)
        picked.append((row, digit))
        shot(page, f"3b_map_picked_{row}")
        end = "B" if picked[1:] else "A"
        bs.rerun(page, page.get_by_role("button", name=f"Make it morph end {end}").click)
    assert_no_exception(page)

    bs.open_view(page, "morph")
    (a, digit_a), (b, digit_b) = picked
    expect(page.get_by_label("Digit A: test #")).to_have_value(str(a))
    expect(page.get_by_label("Digit B: test #")).to_have_value(str(b))
    expect(page.get_by_text(f"A: a {digit_a}")).to_be_visible()
    expect(page.get_by_text(f"B: a {digit_b}")).to_be_visible()
    # Both morph rows (linear and spherical): A, recon A, k = 10 frames, recon B, B; every picture loaded.
    rows = page.get_by_test_id("stImage").filter(has_text="recon A")  # the morph rows, not the pixel blends
    expect(rows.nth(1)).to_be_visible()
    for row in rows.all():
        images = row.locator("img")
        assert images.count() == 14
        for i in range(14):
            expect(images.nth(i)).to_have_js_property("complete", True)
            assert images.nth(i).evaluate("img => img.naturalWidth") > 0
    # The morph view's own map marks the pair.
    marked = json.loads(page.locator(".st-key-morph_map .map-marks").get_attribute("data-rows"))
    assert {a, b} <= set(marked), marked
    shot(page, "3c_morph")
    assert_no_exception(page)


def test_the_gallerys_ten_digits_sit_on_one_line_and_a_click_sets_that_end(page):
    bs.open_view(page, "morph")
    pills = page.locator(".st-key-gallery_b button")
    expect(pills).to_have_count(10)
    tops = [round(pill.bounding_box()["y"]) for pill in pills.all()]
    assert len(set(tops)) == 1, tops  # Streamlit's padding wrapped the 9 onto a second line
    bs.rerun(page, pills.filter(has_text="3").click)
    expect(page.get_by_label("Digit B: test #")).to_have_value("18")  # the test set's first 3
    expect(page.get_by_text("B: a 3")).to_be_visible()
    assert_no_exception(page)


def test_moving_k_puts_it_in_the_address_at_once(page):
    """k reruns only the morphs' fragment: the address (and so "Copy link") must follow there, not wait for
    the next whole-page run (the copied link once carried the old k)."""
    bs.open_view(page, "morph")
    slider = page.locator('[data-testid="stSlider"]').filter(has_text="In-between frames k")
    thumb = slider.locator('input[type="range"]')
    thumb.focus()
    for _ in range(3):
        thumb.press("ArrowRight")
    expect(slider.get_by_test_id("stSliderThumbValue")).to_have_text("13")
    page.wait_for_function("() => new URL(location.href).searchParams.get('k') === '13'", timeout=10_000)
    assert_no_exception(page)


def test_a_test_digit_number_out_of_range_or_emptied_is_refused_in_words(page):
    """Typed into the box and sent with Enter, as a user does: the box is put back and a toast says why
    (with min/max on the box, Chromium only reddened it; emptied, Streamlit put 0 back without a word)."""
    bs.open_view(page, "morph")
    box = page.get_by_label("Digit A: test #")
    bs.rerun(page, lambda: (box.fill("7"), box.press("Enter")))
    expect(page.get_by_text("A: a 9")).to_be_visible()  # test digit #7 is a 9
    bs.rerun(page, lambda: (box.fill("20000"), box.press("Enter")))
    toast = page.get_by_test_id("stToast")
    expect(toast).to_contain_text("Digit A: test #: 20,000 is out of range, test digits are numbered 0 to 9,999.")
    expect(box).to_have_value("7")
    expect(page.get_by_text("A: a 9")).to_be_visible()
    shot(page, "2c_number_refused")
    bs.rerun(page, lambda: (box.fill(""), box.press("Enter")))
    expect(toast.filter(has_text="Digit A: test # was left empty: it stays 7.")).to_be_visible()
    expect(box).to_have_value("7")
    bs.rerun(page, lambda: (box.fill("8"), box.press("Enter")))
    expect(page.get_by_text("A: a 5")).to_be_visible()  # test digit #8 is a 5
    assert_no_exception(page)


def test_an_uploaded_digit_is_reconstructed_and_a_bad_file_gets_a_message(page):
    bs.open_view(page, "digit")
    bs.rerun(page, lambda: bs.upload(page, "seven.png", bs.digit_png("seven")))
    bs.wait_image_loaded(page, bs.RECONSTRUCTION_IMAGE)
    bs.wait_image_loaded(page, "what the model sees")
    metrics = page.get_by_test_id("stMetric")
    expect(metrics.filter(has_text="Reconstruction loss")).to_be_visible()
    for text in metrics.all_inner_texts():
        nats = float(re.search(r"([0-9.]+) nats", text).group(1))
        assert 0 < nats < 1000, text
    expect(metrics.filter(has_text="KL to the prior")).to_be_visible()  # the default model is a VAE
    # The code's μ ± σ bars (and, with an atlas, the map with the star), drawn by Plotly.
    charts = page.get_by_test_id("stPlotlyChart")
    expect(charts.first.locator(".js-plotly-plot .main-svg").first).to_be_attached()
    expect(charts).to_have_count(2 if DEFAULT_ATLAS.is_file() else 1)
    page.wait_for_timeout(500)
    shot(page, "4a_upload")
    assert_no_exception(page)

    bs.rerun(page, lambda: bs.upload(page, "x.png", b"not an image"))
    error = page.get_by_test_id("stAlertContentError")
    expect(error).to_contain_text("not an image")
    assert "Traceback" not in error.inner_text()
    expect(page.get_by_test_id("stImage").filter(has_text=bs.RECONSTRUCTION_IMAGE)).to_have_count(0)
    shot(page, "4b_bad_upload")
    assert_no_exception(page)

    bs.open_view(page, "samples")  # the app still works
    bs.wait_image_loaded(page, "#24")
    expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)
    shot(page, "4c_still_works")
    assert_no_exception(page)


def test_a_digit_drawn_with_the_mouse_is_reconstructed(page):
    bs.open_view(page, "digit")
    bs.rerun(page, page.get_by_role("radio", name="Draw", exact=True).click)
    canvas = page.locator("canvas").first  # the drawing canvas (Plotly's canvases come after it, once drawn)
    expect(canvas).to_be_visible()
    box = canvas.bounding_box()
    assert (box["width"], box["height"]) == (280, 280)
    bs.rerun(page, lambda: bs.draw_stroke(page, box, [(60, 60), (220, 60), (120, 240)]))  # a 7
    bs.wait_image_loaded(page, bs.RECONSTRUCTION_IMAGE)
    recon = page.get_by_test_id("stMetric").filter(has_text="Reconstruction loss")
    expect(recon).to_contain_text("nats")
    shot(page, "5_drawn")
    assert_no_exception(page)


def test_a_checkpoint_uploaded_from_the_browser_becomes_the_sessions_model(page):
    """Visitors bring a model by uploading it, never by typing a server path; a broken file gets a message."""
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text("A path on this server…")).to_have_count(0)
    bs.rerun(page, lambda: sidebar.get_by_text("Upload a checkpoint…").click())
    bs.rerun(page, lambda: bs.upload(page, "broken.safetensors", b"not a checkpoint", "application/octet-stream"))
    expect(sidebar.get_by_text("broken.safetensors", exact=False).first).to_be_visible()
    expect(sidebar.get_by_text("Still showing the previous model", exact=False)).to_be_visible()
    expect(page.get_by_text(f"Model: {DEFAULT.name}")).to_be_visible()
    plane = DEFAULT.parent / "vae_d2.safetensors"
    payload = (plane if plane.is_file() else DEFAULT).read_bytes()
    bs.rerun(page, lambda: bs.upload(page, "my_model.safetensors", payload, "application/octet-stream"))
    bs.wait_settled(page)
    shot(page, "9_checkpoint_uploaded")
    expect(page.get_by_text("Model: my_model.safetensors")).to_be_visible()
    expect(sidebar.get_by_text("my_model.safetensors (yours)")).to_be_visible()
    bs.open_view(page, "map")  # its map is built off the page, as a trained model's, and then shown
    expect(page.get_by_text("Building its map", exact=False)).to_have_count(0, timeout=120_000)
    bs.wait_settled(page)
    # Plotly's script loads with the first chart of a page: seconds on a busy machine.
    expect(page.get_by_test_id("stPlotlyChart").first).to_be_visible(timeout=30_000)
    expect(page.get_by_text("No map", exact=False)).to_have_count(0)
    shot(page, "9b_uploaded_checkpoint_map")
    assert_no_exception(page)


def test_a_copied_link_opens_the_same_state_in_another_browser(browser, server):
    """Open, change (a code, a view, a morph pair), copy the link, open it in a fresh context: same state."""
    first = browser.new_context(viewport=bs.VIEWPORT, permissions=["clipboard-read", "clipboard-write"])
    page = first.new_page()
    bs.goto_app(page, server.url)
    bs.rerun(page, page.get_by_role("button", name="Randomise").click)
    bs.wait_settled(page)
    code = ls.page_code(page)
    bs.open_view(page, "morph")
    number = page.get_by_label("Digit A: test #")
    bs.rerun(page, lambda: (number.fill("7"), number.press("Enter")))
    bs.wait_settled(page)
    bs.rerun(page, lambda: page.get_by_label("Digit B: test #").press("ArrowUp"))  # 1 → 2
    bs.wait_settled(page)
    page.get_by_role("button", name="Copy link to this view").click()
    page.wait_for_function("() => document.querySelector('[data-testid=stSidebar]') !== null")
    link = page.evaluate("() => navigator.clipboard.readText()")
    first.close()
    assert "/morph?" in link and "a=7" in link and "b=2" in link and "z=" in link, link
    second = browser.new_context(viewport=bs.VIEWPORT)
    other = second.new_page()
    try:
        bs._RUNS[other] = bs.ScriptRuns(other)
        other.goto(link)
        expect(other.get_by_label("Digit A: test #")).to_have_value("7", timeout=90_000)
        expect(other.get_by_label("Digit B: test #")).to_have_value("2")
        shot(other, "10_link_opened")
        bs.wait_settled(other)
        bs.open_view(other, "sliders")
        other.wait_for_selector(bs.LIVE_SLIDERS_READY, state="attached")
        assert np.allclose(ls.page_code(other), code, atol=1e-4)
        other.reload()  # a reload keeps it too
        other.wait_for_selector(bs.LIVE_SLIDERS_READY, state="attached")
        assert np.allclose(ls.page_code(other), code, atol=1e-4)
        assert not bs.exceptions(other)
    finally:
        second.close()


PLOT_RANGES_JS = "gd => [gd._fullLayout.xaxis.range.slice(), gd._fullLayout.yaxis.range.slice()]"


def test_the_map_zooms_with_the_wheel_and_a_click_keeps_the_zoom(page):
    needs_atlas()
    bs.open_view(page, "morph")
    chart = page.get_by_test_id("stPlotlyChart").first
    plot = chart.locator(".js-plotly-plot")
    chart.locator(".gl-container canvas").first.wait_for(state="attached")
    expect(page.get_by_text("Next click on the map sets")).to_be_visible()
    chart.scroll_into_view_if_needed()
    whole = plot.evaluate(PLOT_RANGES_JS)
    box = plot.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.5)
    for _ in range(4):
        page.mouse.wheel(0, -200)  # wheel up: zoom in
        page.wait_for_timeout(150)
    page.wait_for_timeout(500)
    zoomed = plot.evaluate(PLOT_RANGES_JS)
    assert zoomed[0][1] - zoomed[0][0] < 0.8 * (whole[0][1] - whole[0][0]), (whole, zoomed)
    row, _ = click_morph_map(page, chart)
    expect(page.get_by_label("Digit A: test #")).to_have_value(str(row))
    bs.wait_settled(page)
    page.wait_for_timeout(500)
    after = page.get_by_test_id("stPlotlyChart").first.locator(".js-plotly-plot").evaluate(PLOT_RANGES_JS)
    assert np.allclose(after, zoomed, rtol=1e-3), (zoomed, after)  # the click kept the zoom
    expect(page.get_by_role("radio", name="B", exact=True)).to_be_checked()  # the next click sets B
    shot(page, "11_zoom_kept")
    assert_no_exception(page)


def click_morph_map(page, chart) -> tuple[int, str]:
    """Clicks an isolated digit inside the morph map's current view; its (row, digit)."""
    info = bs.plotly_points(chart)
    left, top, width, height = info["plot"]
    inside = [p for p in info["points"] if left < p[2] < left + width and top + 60 < p[3] < top + height]
    trace, row, x, y = bs.isolated_points(inside, info["plot"], 1)[0]
    bs.rerun(page, lambda: page.mouse.click(x, y))
    return row, info["traces"][trace]


MAP_DATA_JS = """gd => gd._fullData.filter(t => t.mode === 'markers')
    .map(t => Array.from(t.x).slice(0, 200).concat(Array.from(t.y).slice(0, 200)))"""


def training_map(page) -> list:
    chart = page.locator(".st-key-training_map .js-plotly-plot").first
    chart.wait_for(state="attached", timeout=60_000)
    return chart.evaluate(MAP_DATA_JS)


def recorded_checkpoint() -> Path | None:
    """The first shipped checkpoint (the default first) that keeps a record of its training."""
    from safetensors import safe_open

    from vae.catalog import list_checkpoints

    paths = [DEFAULT, *(c.path for c in list_checkpoints(DEFAULT.parent).checkpoints)]
    for path in paths:
        with safe_open(str(path), framework="pt") as handle:
            if "panel.epochs" in handle.keys():  # noqa: SIM118 (not iterable)
                return path
    return None


def test_the_epoch_slider_switches_the_training_map(page):
    recorded = recorded_checkpoint()
    if recorded is None:
        pytest.skip("no shipped checkpoint keeps a record of its training yet (retrain: docs/checkpoints.md)")
    if recorded != DEFAULT:
        option = page.get_by_test_id("stSidebar").get_by_text(recorded.name, exact=True)
        bs.rerun(page, option.click)
    bs.open_view(page, "training")
    bs.wait_settled(page)
    last = training_map(page)
    samples = bs.wait_image_loaded(page, "samples, epoch")
    shot(page, "training_last_epoch")
    thumb = page.get_by_role("slider").first  # the view's one slider: the epoch
    thumb.focus()
    bs.rerun(page, lambda: page.keyboard.press("Home"))  # to epoch 0
    bs.wait_settled(page)
    expect(page.get_by_text("samples, epoch 0")).to_be_visible()
    first = training_map(page)
    shot(page, "training_epoch_0")
    assert first != last  # the map of the test means at epoch 0 is not the trained model's
    assert bs.image(page, "samples, epoch 0").get_attribute("src") != samples
    bs.open_view(page, "morph")  # it encodes test digits: it says it stays with the trained model
    expect(page.get_by_text("slider is at epoch 0, but this view shows the trained model")).to_be_visible()
    bs.rerun(page, page.get_by_role("button", name="Back to epoch").click)
    expect(page.get_by_text("slider is at epoch 0")).to_have_count(0)
    assert_no_exception(page)


def test_a_code_beyond_the_pads_range_says_so_instead_of_drawing_its_marker_off_the_grid(browser, server):
    """Sliders reach ±6 but the pad over two coordinates spans the test codes (about ±4): a code past it
    is named "outside this pad", with no crosshair or grid marker drawn over the picture beside it."""
    context = browser.new_context(viewport=bs.VIEWPORT)
    try:
        page = context.new_page()
        bs.goto_app(page, f"{server.url}/?z=" + ",".join(["5.9"] * 20))
        pad = page.locator(".pad-readout").first
        pad.scroll_into_view_if_needed()
        expect(pad).to_contain_text("(outside this pad)")
        assert page.locator(".pad-marker").first.evaluate("node => getComputedStyle(node).display") == "none"
        shot(page, "10_pad_outside")
        assert_no_exception(page)
    finally:
        context.close()
