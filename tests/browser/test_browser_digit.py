"""The "Your own digit" view in a real browser: both canvases drawn on with the mouse, an EXIF-rotated
phone photo uploaded (and kept across source switches), and the camera fed by Chromium's fake device
with a generated video of a digit.

    .venv/bin/python -m pytest -m browser tests/browser/test_browser_digit.py

Shares tests/browser/conftest.py's server and page; its own Chromium has the fake camera.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect, sync_playwright

from harness import browser as bs
from harness.photos import make_photo
from support.browser import assert_no_exception, needs_chromium, shot
from support.digits import SEVEN

pytestmark = pytest.mark.browser

VERDICT_SEVEN = "Reads as a 7"


def digit_video(path: Path, frames: int = 20, size: tuple[int, int] = (640, 480)) -> Path:
    """A Y4M video (what Chromium's fake camera plays) of a dark 7 on grey paper, lit unevenly."""
    width, height = size
    paper = Image.new("L", size, 200)
    ImageDraw.Draw(paper).line([(250, 120), (390, 120), (300, 380)], fill=40, width=22)
    light = np.linspace(0.8, 1.05, width)[None, :]
    luma = np.clip(np.asarray(paper, dtype=np.float32) * light, 0, 255).astype(np.uint8)
    chroma = np.full((height // 2) * (width // 2), 128, dtype=np.uint8).tobytes()
    with path.open("wb") as video:
        video.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            video.write(b"FRAME\n" + luma.tobytes() + chroma + chroma)
    return path


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    needs_chromium()
    video = digit_video(tmp_path_factory.mktemp("camera") / "seven.y4m")
    camera = [
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",  # grant the camera without a prompt
        f"--use-file-for-fake-video-capture={video}",
    ]
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(bs.CHROMIUM), args=[*bs.CHROMIUM_ARGS, *camera], headless=True
        )
        yield chromium
        chromium.close()


def choose_source(tab, source: str) -> None:
    bs.rerun(tab, tab.get_by_role("radio", name=source, exact=True).click)


def expect_verdict(tab, text: str = VERDICT_SEVEN) -> None:
    bs.wait_image_loaded(tab, bs.RECONSTRUCTION_IMAGE)
    expect(tab.get_by_text(text)).to_be_visible(timeout=30_000)


@pytest.mark.parametrize("dark", [False, True], ids=["black-ink", "white-ink"])
def test_both_canvases_read_a_drawn_seven(page, dark: bool) -> None:
    bs.open_view(page, "digit")
    choose_source(page, "Draw")
    if dark:
        bs.rerun(page, page.get_by_text("White ink on black").click)
    canvas = page.locator("canvas").first
    expect(canvas).to_be_visible()
    box = canvas.bounding_box()
    bs.rerun(page, lambda: bs.draw_stroke(page, box, [(70, 50), (210, 50), (120, 240)]))
    expect_verdict(page)
    expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)
    page.wait_for_timeout(500)
    shot(page, f"digit_canvas_{'dark' if dark else 'light'}")
    assert_no_exception(page)


def test_an_exif_rotated_photo_is_read_upright_and_kept_across_sources(page) -> None:
    photo = make_photo(SEVEN, label=7, index=0, kind="EXIF sideways", seed=2)
    assert photo.orientation in (3, 6, 8)
    bs.open_view(page, "digit")
    bs.rerun(page, lambda: bs.upload(page, "phone.jpg", photo.photo, "image/jpeg"))
    expect_verdict(page)
    expect(page.get_by_text("More unusual than")).to_be_visible()
    expect(page.get_by_text("16 codes drawn from the bubble")).to_be_visible()
    page.wait_for_timeout(500)
    shot(page, "digit_photo")
    choose_source(page, "Draw")
    choose_source(page, "Upload")
    expect_verdict(page)
    expect(page.get_by_text("phone.jpg")).to_be_visible()
    bs.rerun(page, lambda: bs.upload(page, "x.png", b"not an image"))
    expect(page.get_by_test_id("stAlertContentError")).to_contain_text("not an image")
    expect(page.get_by_role("radio", name="Camera", exact=True)).to_be_visible()  # the sources stay
    shot(page, "digit_bad_file")
    assert_no_exception(page)


def test_an_iphone_heic_photo_is_read(page) -> None:
    """An iPhone's photo as it comes off the phone: HEIC, stored sideways with the turn in the file."""
    photo = (Path(__file__).resolve().parents[1] / "support" / "fixtures" / "seven_sideways.heic").read_bytes()
    bs.open_view(page, "digit")
    bs.rerun(page, lambda: bs.upload(page, "IMG_0001.HEIC", photo, "image/heic"))
    expect_verdict(page)
    expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)
    shot(page, "digit_heic")
    assert_no_exception(page)


def test_the_camera_reads_a_digit(page) -> None:
    bs.open_view(page, "digit")
    choose_source(page, "Camera")
    take = page.get_by_role("button", name="Take Photo")
    expect(take).to_be_enabled(timeout=30_000)
    page.wait_for_timeout(1500)  # let the fake camera deliver frames
    bs.rerun(page, take.click)
    expect_verdict(page)
    page.wait_for_timeout(500)
    shot(page, "digit_camera")
    assert_no_exception(page)
