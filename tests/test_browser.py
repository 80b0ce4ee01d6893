"""The explorer in a real browser: `streamlit run app.py` served on a free port, driven by Playwright in
Debian's Chromium (WebGL through SwiftShader), with real keyboard, mouse and file-upload input.

    .venv/bin/python -m pytest -m browser tests/test_browser.py

Skipped where Chromium or Playwright is missing, except under CI=true (.ci/run installs both): there that
fails. Skipped while the shipped default checkpoint (or, for the map, its atlas) is not there yet.
A screenshot of every step goes to tests/artifacts/, with the server's log.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from pathlib import Path

import browser_support as bs
import numpy as np
import pytest
from PIL import Image

from vae.atlas import atlas_path
from vae.checkpoint import default_checkpoint_path, load_checkpoint
from vae.codes import decode_code
from vae.images import enlarge

IN_CI = os.environ.get("CI", "").lower() == "true"
try:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import expect, sync_playwright
except ImportError:
    if IN_CI:
        raise
    pytest.skip("Playwright is not installed (pip install -r requirements-dev.txt)", allow_module_level=True)

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
DEFAULT = default_checkpoint_path()
DEFAULT_ATLAS = atlas_path(DEFAULT)
MARKED_ROWS_JS = """gd => gd._fullData.filter(t => !/^[0-9]$/.test(t.name) && t.customdata)
    .flatMap(t => Array.from(t.customdata, c => Number(c !== null && typeof c === 'object' ? c[0] : c)))"""


def shot(page, name: str) -> None:
    bs.screenshot(page, ARTIFACTS / f"{name}.png")


def assert_no_exception(page) -> None:
    assert not bs.exceptions(page), bs.exceptions(page)


def needs_atlas() -> None:
    if not DEFAULT_ATLAS.is_file():
        pytest.skip(f"{DEFAULT_ATLAS} is not there yet: python -m vae atlas {DEFAULT}")


@pytest.fixture(scope="module")
def browser() -> Iterator:
    if not bs.CHROMIUM.is_file():
        reason = f"no Chromium at {bs.CHROMIUM}: apt-get install chromium fonts-dejavu-core"
        if IN_CI:
            pytest.fail(f"{reason} (CI=true: .ci/run installs it)", pytrace=False)
        pytest.skip(reason)
    with sync_playwright() as playwright:
        chromium = bs.launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def server() -> Iterator[bs.AppServer]:
    if not DEFAULT.is_file():
        pytest.skip(f"the shipped default checkpoint {DEFAULT} is not there yet (python -m vae train)")
    ARTIFACTS.mkdir(exist_ok=True)
    # No file watcher: nothing is edited during the test, and watching the repository only costs CPU.
    with bs.AppServer(ARTIFACTS / "server.log", ["--server.fileWatcherType", "none"]) as app:
        app.wait_healthy(90)
        yield app


@pytest.fixture
def page(browser, server: bs.AppServer, request: pytest.FixtureRequest) -> Iterator:
    """A fresh browser session (so a fresh Streamlit session) on the loaded default view.

    When the test fails, the page as it was, its script-run counts and the server log are kept in
    tests/artifacts/ (CI prints the log), since a failure in a real browser is hard to replay."""
    context = browser.new_context(viewport=bs.VIEWPORT)
    page = context.new_page()
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    try:
        bs.goto_app(page, server.url)
        yield page
        if getattr(request.node, "report_call", None) is not None and request.node.report_call.failed:
            keep_failure(page, server, request.node.name)
    except Exception:
        keep_failure(page, server, request.node.name)
        raise
    finally:
        context.close()
    assert not page_errors, f"JavaScript errors on the page: {page_errors}"


def keep_failure(page, server: bs.AppServer, name: str) -> None:
    try:
        bs.screenshot(page, ARTIFACTS / f"failed_{name}.png")
        state = page.get_by_test_id("stApp").get_attribute("data-test-script-state")
    except Exception as error:  # the page itself may be what broke
        state = f"(page unreadable: {error})"
    runs = bs.script_runs(page)
    print(
        f"script runs started {runs.started}, finished {runs.finished}, the page says {state}\n"
        f"server log:\n{server.log_tail()}"
    )


def pixels(data: bytes) -> np.ndarray:
    picture = Image.open(io.BytesIO(data)).convert("L")
    assert picture.size == (280, 280)  # a 28×28 digit enlarged 10×
    return np.asarray(picture, dtype=np.int16)


def test_the_page_loads_with_a_decoded_digit_and_no_error(page):
    shot(page, "1_loaded")
    assert page.title() == "VAE Latent Explorer"
    expect(page.get_by_role("heading", name="VAE Latent Explorer")).to_be_visible()
    expect(page.get_by_text(f"Model: {DEFAULT.name}")).to_be_visible()
    assert bs.image(page, bs.SLIDER_IMAGE).evaluate("img => img.naturalWidth") == 280
    assert page.locator('[data-testid="stSlider"]').count() >= 20  # one slider per latent coordinate (d = 20)
    assert_no_exception(page)


def test_a_slider_moved_with_the_keyboard_changes_the_decoded_digit(page):
    src = bs.image(page, bs.SLIDER_IMAGE).get_attribute("src")
    before = pixels(bs.fetch_bytes(page, src))
    slider = page.locator('[data-testid="stSlider"]').first  # with a map: the most used coordinate
    thumb = slider.locator('input[type="range"]')
    thumb.focus()
    for _ in range(10):  # 10 steps of 0.05: half a prior standard deviation
        page.keyboard.press("ArrowRight")
    new_src = bs.wait_src_change(page, bs.SLIDER_IMAGE, src)
    expect(slider.get_by_test_id("stSliderThumbValue")).to_have_text("0.50")
    bs.wait_settled(page)  # each key press may start a run: fetch the picture of the last one
    after = pixels(bs.fetch_bytes(page, bs.image(page, bs.SLIDER_IMAGE).get_attribute("src")))
    label = thumb.get_attribute("aria-label")
    changed = int((np.abs(after - before) > 16).sum())
    assert changed > 500, f"only {changed} pixels changed after moving {label}"
    assert new_src != src
    # What the browser shows is the decoder's picture of the slider's code (mean error 0.004 here; 10 for z = 0).
    code = [0.0] * 20
    code[int(re.match(r"z(\d+)", label).group(1))] = 0.5
    expected = np.asarray(enlarge(decode_code(load_checkpoint(DEFAULT), code), 10), dtype=np.int16)
    assert np.abs(after - expected).mean() < 2, f"the shown digit is not the decoding of {label} = 0.50"
    shot(page, "2_slider_moved")
    assert_no_exception(page)


def test_a_slider_dragged_with_the_mouse_changes_the_decoded_digit(page):
    src = bs.image(page, bs.SLIDER_IMAGE).get_attribute("src")
    before = pixels(bs.fetch_bytes(page, src))
    slider = page.locator('[data-testid="stSlider"]').nth(1)
    thumb = slider.get_by_role("slider")
    box = thumb.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 40, y, steps=8)  # a real drag: press, move, release
    page.mouse.up()
    bs.wait_src_change(page, bs.SLIDER_IMAGE, src)
    bs.wait_settled(page)
    value = float(slider.get_by_test_id("stSliderThumbValue").inner_text())
    assert value > 0.2, f"the thumb moved to {value}"
    after = pixels(bs.fetch_bytes(page, bs.image(page, bs.SLIDER_IMAGE).get_attribute("src")))
    assert int((np.abs(after - before) > 16).sum()) > 200
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
        bs.rerun(page, page.get_by_role("button", name="Add to the morph pair").click)
    assert_no_exception(page)

    bs.open_view(page, "morph")
    (a, digit_a), (b, digit_b) = picked
    expect(page.get_by_label("Digit A: test #")).to_have_value(str(a))
    expect(page.get_by_label("Digit B: test #")).to_have_value(str(b))
    expect(page.get_by_text(f"A: a {digit_a}")).to_be_visible()
    expect(page.get_by_text(f"B: a {digit_b}")).to_be_visible()
    # Both morph rows (linear and spherical): A, recon A, k = 10 frames, recon B, B; every picture loaded.
    rows = page.get_by_test_id("stImage").filter(has_text="t=0.09")
    expect(rows.nth(1)).to_be_visible()
    for row in rows.all():
        images = row.locator("img")
        assert images.count() == 14
        for i in range(14):
            expect(images.nth(i)).to_have_js_property("complete", True)
            assert images.nth(i).evaluate("img => img.naturalWidth") > 0
    # The morph view's own map marks the pair.
    marked = page.get_by_test_id("stPlotlyChart").first.locator(".js-plotly-plot").evaluate(MARKED_ROWS_JS)
    assert {a, b} <= set(marked), marked
    shot(page, "3c_morph")
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
        pytest.skip("no shipped checkpoint keeps a record of its training yet (retrain: README, Shipped models)")
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
    assert_no_exception(page)
