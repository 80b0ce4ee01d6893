"""A lesson's handout: a PDF with a page per step, and each step's picture as its view draws it."""

from __future__ import annotations

import re

import numpy as np
import pytest

from explorer.pages import VIEWS
from explorer.state.lessons import read_shipped, shipped_lessons
from explorer.state.url import LinkState
from explorer.ui.handout import handout_pdf, step_picture
from vae.checkpoint import load_checkpoint
from vae.codes import decode_code
from vae.data import load_mnist
from vae.images import tile
from vae.morph import morph_row


@pytest.mark.slow
def test_the_shipped_lesson_becomes_a_pdf_of_a_page_per_step() -> None:
    views = [view.url_path for view in VIEWS]
    name = next(iter(shipped_lessons()))
    lesson = read_shipped(name, views, ["vae_d20", "vae_d2", "ae_d20"])
    models = {n: load_checkpoint(f"checkpoints/{n}.safetensors") for n in ("vae_d20", "vae_d2", "ae_d20")}
    test = load_mnist("test", allow_download=False)
    pdf = handout_pdf(lesson, lambda n: models[n or "vae_d20"], test.images)
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == len(lesson.steps)  # Pillow writes PDFs, reads none


def test_a_steps_picture_is_what_its_view_draws() -> None:
    from explorer.state.lessons import Step

    model = load_checkpoint("checkpoints/vae_d20.safetensors")
    test = load_mnist("test", allow_download=False)
    code = tuple(float(v) for v in np.linspace(-1, 1, 20))
    picture, _ = step_picture(Step("sliders", LinkState(code=code), "c"), lambda _: model, test.images)
    assert np.array_equal(picture, decode_code(model, code))
    picture, note = step_picture(Step("morph", LinkState(a=3, b=42, k=4), "c"), lambda _: model, test.images)
    row = morph_row(model, test.images[3], test.images[42], 4, "linear").images
    assert np.array_equal(picture, tile(row, columns=len(row))) and len(row) == 8 and "#3" in note
    picture, note = step_picture(Step("map", LinkState(), "c"), lambda _: model, test.images)
    assert picture is None and "in the app" in note
