"""In a real browser: train one epoch of a small model from the Train view, then find it in the picker."""

from __future__ import annotations

import browser_support as bs
import pytest
from playwright.sync_api import expect
from test_browser import assert_no_exception, browser, page, server, shot  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.mnist]


# For 1.5 s, each time an element of the live progress line is marked stale or fresh: "true:1s" is a stale
# mark with a one-second fade (Streamlit's own), "true:0s" one without.
STALE_FADES_JS = """() => new Promise(done => {
  const fades = [];
  const watch = new MutationObserver(changes => { for (const change of changes) {
    const element = change.target;
    if (element.closest('.st-key-train_live'))
      fades.push(element.getAttribute('data-stale') + ':' + getComputedStyle(element).transitionDuration);
  } });
  watch.observe(document.body, {attributes: true, attributeFilter: ['data-stale'], subtree: true});
  setTimeout(() => { watch.disconnect(); done(fades); }, 1500);
})"""


def set_epochs_to_one(tab) -> None:
    slider = tab.locator('[data-testid="stSlider"]').filter(has_text="Epochs")
    thumb = slider.locator('input[type="range"]')
    thumb.focus()
    thumb.press("Home")
    expect(slider.get_by_test_id("stSliderThumbValue")).to_have_text("1")


def test_one_epoch_trained_in_the_browser_becomes_a_model_in_the_picker(page):  # noqa: F811 (the fixture)
    bs.open_view(page, "train")
    page.get_by_label("Latent size d").fill("2")
    page.get_by_label("Latent size d").press("Tab")
    set_epochs_to_one(page)
    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_role("button", name="Cancel")).to_be_visible(timeout=60_000)
    # The progress line, rerun twice a second, does not fade in and out (the browser would redraw all the time).
    fades = page.evaluate(STALE_FADES_JS)
    assert any(f.startswith("true") for f in fades), fades  # it was marked stale while it reran...
    assert all(f.endswith(":0s") for f in fades), fades  # ...without a fade
    expect(page.get_by_text("Trained 1 epoch.")).to_be_visible(timeout=300_000)
    bs.wait_settled(page)
    shot(page, "10_trained_one_epoch")
    sidebar = page.get_by_test_id("stSidebar")
    mine = sidebar.get_by_text("vae_d2_beta1_e1_s1", exact=False).first
    expect(mine).to_be_visible()
    expect(page.get_by_role("button", name="Download the checkpoint")).to_be_visible()
    bs.rerun(page, mine.click)
    expect(page.get_by_text("Model: vae_d2_beta1_e1_s1", exact=False)).to_be_visible()
    bs.open_view(page, "plane")  # a 2-D model's map is its own plane: there at once
    bs.wait_settled(page)
    shot(page, "11_trained_model_plane")
    assert_no_exception(page)
