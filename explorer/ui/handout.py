"""A lesson as a handout for students without the app: one A4 sheet per step, in one PDF, with the step's
caption, its question and answer, and the pictures its view shows for the step's state (the decoded code,
the samples, the morph row); views whose picture needs the app (a map, a chart) say where to find it.

Plain Pillow (no Streamlit): text is laid out line by line in DejaVu Sans where the system has it.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from explorer.state.lessons import Lesson, Step
from vae.codes import decode_code, prior_samples
from vae.images import tile
from vae.model import LatentModel
from vae.morph import morph_row

PAGE = (1240, 1754)  # A4 at 150 dots per inch
MARGIN = 90
FONTS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "DejaVuSans.ttf")
ModelFor = Callable[[str | None], LatentModel]


def _font(size: int) -> ImageFont.ImageFont:
    for name in FONTS:
        if Path(name).is_file() or "/" not in name:
            try:
                return ImageFont.truetype(name, size)
            except OSError:
                continue
    return ImageFont.load_default(size)


def step_picture(step: Step, model_for: ModelFor, test_images: torch.Tensor) -> tuple[np.ndarray | None, str]:
    """(uint8 picture, what it shows) of a step, as its view would draw it; None where the view needs the app."""
    state, view = step.state, step.view
    if view not in ("sliders", "samples", "morph"):
        return None, f"Open the {view} view in the app to see this step."
    model = model_for(state.model)
    if view == "sliders":
        code = list(state.code) if state.code is not None else [0.0] * model.latent_dim
        if len(code) != model.latent_dim:
            code = [0.0] * model.latent_dim
        return decode_code(model, code), "The digit the sliders' code decodes to."
    if view == "samples":
        count = min(state.count or 24, 32)
        samples = prior_samples(model, count, state.temperature or 1.0, state.seed or 0)
        return tile(samples.images, columns=8), f"{count} samples from the prior, seed {state.seed or 0}."
    a, b = state.a if state.a is not None else 0, state.b if state.b is not None else 1
    row = morph_row(model, test_images[a], test_images[b], state.k or 10, "linear")
    return tile(row.images, columns=len(row.images)), f"Test digit #{a} morphing into #{b}, linearly."


# A caption's maths ($…$) as plain text on paper: the few TeX commands the lessons use, as their symbols.
TEX = {
    r"\mathcal{N}": "N",
    r"\tfrac12": "½",
    r"\frac12": "½",
    r"\sum": "Σ",
    r"\log": "log",
    r"\mu": "μ",
    r"\sigma": "σ",
    r"\beta": "β",
    r"\,": " ",
    r"\cdot": "·",
    r"\approx": "≈",
    r"\to": "→",
    "^2": "²",
    "$": "",
}


def paper_text(text: str) -> str:
    for tex, symbol in TEX.items():
        text = text.replace(tex, symbol)
    return text


def _lines(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for paragraph in paper_text(text).strip().split("\n\n"):
        lines += textwrap.wrap(" ".join(paragraph.split()), width) or [""]
        lines.append("")
    return lines


def step_sheet(lesson: Lesson, number: int, picture: np.ndarray | None, picture_note: str) -> Image.Image:
    step = lesson.steps[number]
    sheet = Image.new("RGB", PAGE, "white")
    draw = ImageDraw.Draw(sheet)
    y = MARGIN
    draw.text((MARGIN, y), lesson.title, font=_font(40), fill="black")
    y += 70
    draw.text(
        (MARGIN, y), f"Step {number + 1} of {len(lesson.steps)} · the {step.view} view", font=_font(26), fill="#444"
    )
    y += 70
    for line in _lines(step.caption, 70):
        draw.text((MARGIN, y), line, font=_font(26), fill="black")
        y += 36
    if picture is not None:
        scale = max(1, min((PAGE[0] - 2 * MARGIN) // picture.shape[1], 420 // picture.shape[0]))
        image = Image.fromarray(picture).resize((picture.shape[1] * scale, picture.shape[0] * scale), Image.NEAREST)
        sheet.paste(image.convert("RGB"), (MARGIN, y + 10))
        y += image.height + 30
    draw.text((MARGIN, y), picture_note, font=_font(22), fill="#555")
    y += 60
    if step.question:
        for label, text in (("Question", step.question), ("Answer", step.answer)):
            if text:
                draw.text((MARGIN, y), f"{label}:", font=_font(26), fill="black")
                y += 38
                for line in _lines(text, 70):
                    draw.text((MARGIN + 30, y), line, font=_font(24), fill="black")
                    y += 34
    return sheet


def handout_pdf(lesson: Lesson, model_for: ModelFor, test_images: torch.Tensor) -> bytes:
    """The whole lesson as a PDF, one page per step."""
    sheets = [step_sheet(lesson, i, *step_picture(step, model_for, test_images)) for i, step in enumerate(lesson.steps)]
    buffer = io.BytesIO()
    sheets[0].save(buffer, format="PDF", save_all=True, append_images=sheets[1:], resolution=150)
    return buffer.getvalue()
