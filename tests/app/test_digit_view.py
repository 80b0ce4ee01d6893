"""The "Your own digit" view with AppTest (verdict, honest numbers, posterior, sources) and its wording."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageOps

from explorer.words.digit import unusual_sentence, verdict_sentence
from support.app import FIRST, LISTING, assert_clean, has_atlas, images_with, open_view, shown, start
from vae.verdict import Verdict

pytestmark = pytest.mark.skipif(FIRST is None, reason="no checkpoints to show")


def verdict(label: int, votes: int, runner_up: int | None = None, runner_votes: int = 0) -> Verdict:
    counts = np.zeros(10, dtype=np.int64)
    counts[label] = votes
    return Verdict(label, votes, 10, runner_up, runner_votes, np.arange(10), np.zeros(10), counts)


def test_verdict_sentences() -> None:
    assert verdict_sentence(verdict(3, 9)) == "Reads as a **3**: 9 of its 10 nearest test digits are 3s."
    assert verdict_sentence(verdict(7, 10)) == "Reads as a **7**: all 10 of its nearest test digits are 7s."
    assert verdict_sentence(verdict(4, 5, 9, 4)) == (
        "Reads as a **4**: 5 of its 10 nearest test digits are 4s, but 4 are 9s: it could be a 9."
    )
    assert verdict_sentence(verdict(1, 2, 7, 1)).endswith("but 1 is a 7: it could be a 7.")


def test_unusual_sentences() -> None:
    assert unusual_sentence(87.2) == "More unusual than 87 % of test digits."
    assert unusual_sentence(100.0).startswith("More unusual than every test digit")
    assert unusual_sentence(0.0).startswith("As ordinary as")


def png(img: Image.Image, fmt: str = "PNG", **kwargs: object) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def seven(size: int = 200) -> Image.Image:
    img = Image.new("L", (size, size), 255)
    s = size / 200
    ImageDraw.Draw(img).line([(50 * s, 40 * s), (150 * s, 40 * s), (90 * s, 170 * s)], fill=0, width=round(18 * s))
    return img


def upload(at, name: str, data: bytes, mime: str = "image/png"):
    return at.file_uploader(key="digit_upload").set_value((name, data, mime)).run()


def texts(at) -> str:
    return shown("\n".join(m.value for m in at.markdown) + "\n".join(c.value for c in at.caption))


def test_an_upload_gets_a_verdict_a_percentile_and_posterior_digits() -> None:
    at = upload(start("digit"), "seven.png", png(seven()))
    assert_clean(at)
    shown = texts(at)
    if has_atlas(FIRST):
        assert "Reads as a **7**" in shown
        if FIRST.kind == "vae":
            assert "More unusual than" in shown or "As ordinary as" in shown
    if FIRST.kind == "vae":
        assert images_with(at, "16 codes drawn from the bubble")
        assert images_with(at, "decoded μ, the bubble's centre")
    labels = [m.label for m in at.metric]
    assert labels[0] == "Reconstruction loss"


def test_the_upload_survives_switching_sources() -> None:
    at = upload(start("digit"), "seven.png", png(seven()))
    for source in ("Draw", "Camera", "Upload"):
        at.segmented_control(key="digit_source").set_value(source).run()
        assert_clean(at)
    assert images_with(at, "its reconstruction")
    assert "seven.png" in texts(at)


def test_white_ink_toggle_does_not_break_the_view() -> None:
    at = start("digit")
    at.segmented_control(key="digit_source").set_value("Draw").run()
    for dark in (True, False, True):
        at.toggle(key="canvas_dark").set_value(dark).run()
        assert_clean(at)


def test_an_exif_rotated_photo_and_an_animation_are_read() -> None:
    upright = Image.new("RGB", (300, 400), "white")
    upright.paste(seven(300).convert("RGB"), (0, 50))
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways, as a phone held upright stores it
    photo = png(upright.transpose(Image.Transpose.ROTATE_90), "JPEG", quality=90, exif=exif.tobytes())
    at = upload(start("digit"), "phone.jpg", photo, "image/jpeg")
    assert_clean(at)
    if has_atlas(FIRST):
        assert "Reads as a **7**" in texts(at)
    frames = [seven(64).convert("P"), ImageOps.invert(seven(64)).convert("P")]
    gif = png(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    at = upload(at, "moving.gif", gif, "image/gif")
    assert_clean(at)
    assert any("animation of 2 frames" in i.value for i in at.info)


def test_a_bad_upload_is_one_line_and_the_sources_stay() -> None:
    at = upload(start("digit"), "empty.png", b"")
    assert not at.exception
    assert len(at.error) == 1 and "\n" not in at.error[0].value
    assert at.segmented_control(key="digit_source").value == "Upload"


def test_the_autoencoder_says_it_has_no_posterior() -> None:
    autoencoders = [c for c in LISTING.checkpoints if c.kind == "ae"]
    if not autoencoders:
        pytest.skip("no autoencoder checkpoint")
    at = start("digit")
    at.sidebar.radio(key="model_choice").set_value(str(autoencoders[0].path)).run()
    at = upload(at, "seven.png", png(seven()))
    assert_clean(at)
    assert any("has no posterior" in i.value for i in at.info)
    assert not images_with(at, "16 codes drawn")


def test_a_test_digit_picked_on_the_map_shows_its_posterior() -> None:
    if not has_atlas(FIRST):
        pytest.skip("no map")
    at = start()
    at.session_state["map_pick"] = 5

    open_view(at, "map")
    assert_clean(at)
    if FIRST.kind == "vae":
        assert images_with(at, "16 codes drawn from the bubble")
    else:
        assert any("has no posterior" in i.value for i in at.info)
