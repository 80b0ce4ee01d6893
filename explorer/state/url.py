"""The state a link carries: plain functions between the address's query parameters and the explorer's state.

The view is the address's path (st.navigation's url_path); the rest is in the query:

    /morph?model=vae_d20&a=7&b=42&k=12      /?model=vae_d2&z=0.5,-1.25 (the sliders)      /samples?seed=7&T=1.5&n=64
    /training?model=vae_d20&epoch=1 (the Training view's epoch, which the other views decode with too)

Only values that differ from the defaults are written, so a plain visit has a plain address. A bad or stale
value (an unknown model, a code of the wrong length, an index out of range) is dropped with a short note
and its default is used: a link never breaks the page.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields

from vae.mnist_shape import TEST_SIZE

TEST_DIGITS = TEST_SIZE
LAST_TEST_ROW = TEST_DIGITS - 1
MAX_SAMPLES, DEFAULT_SAMPLES = 64, 24  # the Samples view's "How many digits"
MAX_PRIOR_SEED = 999_999  # vae.codes.fresh_seed's range: short enough to read and type back
MAX_EPOCH = 100_000  # past any run's length: the model's record says which epochs it kept
MAX_CODE = 100.0  # a coordinate's size beyond which a link's code is nonsense, not a far-out sample


@dataclass(frozen=True)
class LinkState:
    """What a link can say; None means "the default" (each view has its own)."""

    model: str | None = None  # a shipped checkpoint's file name without .safetensors
    code: tuple[float, ...] | None = None  # the sliders' code
    a: int | None = None  # morph pair, test indices
    b: int | None = None
    k: int | None = None  # in-between frames, 1–30
    seed: int | None = None  # samples' seed, 0–999,999
    count: int | None = None  # how many samples, 1–64
    temperature: float | None = None  # samples' T, 0.1–2.0
    pick: int | None = None  # the map's picked test digit
    plane: tuple[float, ...] | None = None  # the 2-D plane's pinned point (z0, z1)
    epoch: int | None = None  # the Training view's epoch, when not the trained model's (checked against its record)
    join: str | None = None  # a class's join code (the Class view's join link); read once, never written back
    notes: tuple[str, ...] = field(default=(), compare=False)  # what was dropped, in a few words each


def _integer(text: str, low: int, high: int) -> int | None:
    try:
        value = int(text)
    except ValueError:
        return None
    return value if low <= value <= high else None


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def parse_code(text: str) -> tuple[float, ...] | None:
    values = [_number(part) for part in text.split(",")] if text else []
    if not values or any(v is None or abs(v) > MAX_CODE for v in values):
        return None
    return tuple(float(v) for v in values)


def parse_link(params: Mapping[str, str], models: Sequence[str]) -> LinkState:
    """The state in a link's query parameters; `models` are the checkpoint names it may name."""
    found: dict[str, object] = {}
    notes: list[str] = []

    def take(name: str, key: str, value: object, what: str) -> None:
        if value is None:
            notes.append(f"{name}={params[name][:40]!r} is not {what}")
        else:
            found[key] = value

    if "model" in params:
        take("model", "model", params["model"] if params["model"] in models else None, "a model here")
    if "join" in params:
        code = params["join"].strip().upper()
        take(
            "join", "join", code if code.isalnum() and code.isascii() and 4 <= len(code) <= 8 else None, "a class code"
        )
    if "z" in params:
        take("z", "code", parse_code(params["z"]), "a code")
    for name, what in (("a", "test digit"), ("b", "test digit"), ("pick", "test digit")):
        if name in params:
            take(name, name, _integer(params[name], 0, LAST_TEST_ROW), f"a {what} (0–{LAST_TEST_ROW:,})")
    if "k" in params:
        take("k", "k", _integer(params["k"], 1, 30), "a number of frames (1–30)")
    if "p" in params:
        point = parse_code(params["p"])
        take("p", "plane", point if point is not None and len(point) == 2 else None, "a point of the plane (z0,z1)")
    if "epoch" in params:
        take("epoch", "epoch", _integer(params["epoch"], 0, MAX_EPOCH), "an epoch")
    if "seed" in params:
        take("seed", "seed", _integer(params["seed"], 0, MAX_PRIOR_SEED), f"a seed (0–{MAX_PRIOR_SEED:,})")
    if "n" in params:
        take("n", "count", _integer(params["n"], 1, MAX_SAMPLES), f"a number of samples (1–{MAX_SAMPLES})")
    if "T" in params:
        value = _number(params["T"])
        ok = value is not None and 0.1 <= value <= 2.0
        take("T", "temperature", round(round(value / 0.05) * 0.05, 2) if ok else None, "a temperature (0.1–2)")
    return LinkState(**found, notes=tuple(notes))


def _short(value: float) -> str:
    text = f"{round(float(value), 4) + 0.0:.4f}".rstrip("0").rstrip(".")  # + 0.0: no "-0"
    return "0" if text in ("", "-0") else text


def code_text(code: Sequence[float]) -> str:
    """A code as the link writes it: 4 decimals at most (what the explorer keeps), no trailing zeros."""
    return ",".join(_short(v) for v in code)


def link_params(state: LinkState, defaults: LinkState) -> dict[str, str]:
    """The query parameters for `state`, leaving out what equals `defaults` (and what is None)."""
    names = {"code": "z", "temperature": "T", "count": "n", "plane": "p"}
    params: dict[str, str] = {}
    for item in fields(LinkState):
        if item.name == "notes":
            continue
        value = getattr(state, item.name)
        if value is None or value == getattr(defaults, item.name):
            continue
        if item.name in ("code", "plane"):
            text = code_text(value)
        elif isinstance(value, str):
            text = value
        else:
            text = f"{value:g}"
        params[names.get(item.name, item.name)] = text
    return params


MAX_LESSON_STEP = 50  # explorer.state.lessons.MAX_STEPS
LESSON_PARAMS = ("lesson", "lesson_text", "step", "present")


@dataclass(frozen=True)
class LessonLink:
    """A lesson a link opens: a shipped one by name (lesson=week8) or one carried whole (lesson_text=…, packed
    by explorer.state.lessons.lesson_to_link), at a step (step=3, counted from 1), maybe for a projector
    (present=1). The names are checked when the lesson is read."""

    name: str | None = None
    packed: str | None = None
    step: int = 0  # counted from 0 here
    present: bool = False
    notes: tuple[str, ...] = ()

    @property
    def opens_lesson(self) -> bool:
        return self.name is not None or self.packed is not None


def parse_lesson_link(params: Mapping[str, str]) -> LessonLink:
    notes = []
    step = 0
    if "step" in params:
        number = _integer(params["step"], 1, MAX_LESSON_STEP)
        if number is None:
            notes.append(f"step={params['step'][:40]!r} is not a step (1–{MAX_LESSON_STEP})")
        else:
            step = number - 1
    present = params.get("present") is not None
    if present and params["present"] not in ("1", "true", "yes", ""):
        notes.append(f"present={params['present'][:40]!r} is not 1")
        present = False
    name = params.get("lesson") or None
    packed = None if name else params.get("lesson_text") or None
    return LessonLink(name=name, packed=packed, step=step, present=present, notes=tuple(notes))


def lesson_link_params(link: LessonLink) -> dict[str, str]:
    params: dict[str, str] = {}
    if link.name:
        params["lesson"] = link.name
    elif link.packed:
        params["lesson_text"] = link.packed
    if link.opens_lesson:
        params["step"] = str(link.step + 1)
    if link.present:
        params["present"] = "1"
    return params
