"""In a real browser: train one epoch of a small model from the Train view, then find it in the picker."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from harness import browser as bs
from support.browser import assert_no_exception, shot

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


def test_one_epoch_trained_in_the_browser_becomes_a_model_in_the_picker(page):
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
    bs.open_view(page, "plane")  # a 2-D model's map is its own plane: there at once
    expect(page.get_by_text("Model: vae_d2_beta1_e1_s1", exact=False)).to_be_visible()
    bs.wait_settled(page)
    shot(page, "11_trained_model_plane")
    assert_no_exception(page)


def start_one_epoch(tab, seed: int) -> None:
    tab.get_by_role("spinbutton", name="Seed").fill(str(seed))
    tab.get_by_role("spinbutton", name="Seed").press("Tab")
    tab.get_by_role("button", name="Start training").click()
    # This job under way first: a model trained before it left its own "Trained 1 epoch." on the page.
    expect(tab.get_by_role("button", name="Cancel")).to_be_visible(timeout=60_000)
    expect(tab.get_by_text("Trained 1 epoch.")).to_be_visible(timeout=300_000)


def test_typed_settings_out_of_range_and_two_models_in_a_row(page):
    """d typed out of range is refused in words; a second model trained while the first one's map is still
    being built gets its map after it (the page once turned into an error box); "Explore it" opens it."""
    bs.open_view(page, "train")
    page.get_by_label("Latent size d").fill("100")
    page.get_by_label("Latent size d").press("Tab")
    bs.rerun(page, page.get_by_role("button", name="Start training").click)
    expect(page.get_by_text("d must be between 2 and 64, not 100")).to_be_visible()
    expect(page.get_by_role("button", name="Cancel")).to_have_count(0)  # nothing was queued
    page.get_by_label("Latent size d").fill("20")
    page.get_by_label("Latent size d").press("Tab")
    set_epochs_to_one(page)
    start_one_epoch(page, seed=1)
    expect(page.get_by_text("Building its map", exact=False)).to_be_visible()  # a t-SNE: a few seconds
    start_one_epoch(page, seed=2)
    bs.wait_settled(page)
    shot(page, "12_second_model_while_the_first_map_builds")
    assert_no_exception(page)
    expect(page.get_by_text("Something went wrong", exact=False)).to_have_count(0)
    expect(page.get_by_text("Building its map", exact=False)).to_have_count(0, timeout=120_000)
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text("(yours)", exact=False)).to_have_count(2)
    bs.rerun(page, page.get_by_role("button", name="Explore it in the sliders").click)
    expect(page.get_by_text("Model: vae_d20_beta1_e1_s2", exact=False)).to_be_visible()
    bs.open_view(page, "map")
    # Not wait_settled: in CI its count of script runs once kept one run unfinished for 60 s while the page
    # said notRunning (likely a polling fragment's run that the page's rerun replaced). The chart is the point.
    expect(page.get_by_test_id("stPlotlyChart").first).to_be_visible(timeout=60_000)
    bs.wait_idle(page)
    shot(page, "13_second_model_map")
    expect(page.get_by_text("No map", exact=False)).to_have_count(0)
    assert_no_exception(page)
