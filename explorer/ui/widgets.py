"""Widgets every view shares: the error boundary (for views and for fragments), the pickable chart and the
whole-number box that refuses a value out of range in words, and CSS scoped to widget keys."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import partial, wraps
from typing import ParamSpec

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from explorer.service.resources import LOG
from explorer.state.session import guarded, ss
from explorer.words.app import friendly_error

P = ParamSpec("P")


@contextmanager
def error_boundary(name: str) -> Iterator[None]:
    """Whatever goes wrong inside becomes a message on the page, never a traceback."""
    try:
        yield
    except Exception as exc:
        LOG.exception("view %s failed", name)
        st.error(friendly_error(exc))


def guarded_fragment(name: str) -> Callable[[Callable[P, None]], Callable[P, None]]:
    """st.fragment with an error boundary inside: a fragment reruns on its own, outside its view's boundary."""

    def decorate(body: Callable[P, None]) -> Callable[P, None]:
        @wraps(body)
        def run(*args: P.args, **kwargs: P.kwargs) -> None:
            with error_boundary(name):
                body(*args, **kwargs)

        return st.fragment(run)

    return decorate


def pickable_chart(
    figure: object, key: str, on_pick: Callable[[str], None], modes: tuple[str, ...] = ("points", "box", "lasso")
) -> None:
    """A Plotly chart whose click, box or lasso calls on_pick(key); plotly_chart passes its callback no args.
    The mouse wheel zooms (the figure's uirevision keeps zoom and pan across clicks)."""
    st.plotly_chart(
        figure,
        key=key,
        on_select=partial(on_pick, key),
        selection_mode=modes,
        config={"displaylogo": False, "scrollZoom": True},
    )


def keyed_style(keys: Iterable[str], selector: str, declarations: str) -> str:
    """A <style> for st.html whose rule applies inside the elements of the given widget keys only (Streamlit
    gives each keyed element the class st-key-KEY): `selector` is what to style within them, e.g. "button"."""
    return "<style>" + "".join(f".st-key-{key} {selector} {{ {declarations} }}" for key in keys) + "</style>"


def still_progress(key: str) -> str:
    """Streamlit fades an element that is being rerun (opacity over 1 s). Rerun every second or faster, a
    progress line was always fading, and the browser drew 18 frames a second to show it: most of a core of
    a 2-core machine whose other core trains. The lines change little per run: no fade inside `key`."""
    return keyed_style((key,), "*", "transition: none !important;")


def _good_key(key: str) -> str:
    return f"{key}.good"


@guarded
def _keep_in_range(key: str, label: str, low: int, high: int, what: str) -> None:
    """The box's on_change: a value out of range, or none, is put back to the last good one, and a toast
    says so (beside the box it would push its row out of line, and stay after the next change)."""
    value = ss[key]
    if value is not None and low <= value <= high:
        return
    kept = ss.get(_good_key(key), low)
    ss[key] = kept
    if value is None:
        message = f"{label} was left empty: it stays {kept:,}."
    else:
        message = f"{label}: {int(value):,} is out of range, {what} {low:,} to {high:,}. It stays {kept:,}."
    st.toast(message, icon=":material/block:", duration="long")


def ranged_int_input(
    where: DeltaGenerator, label: str, low: int, high: int, key: str, default: int, what: str, **kwargs: object
) -> int:
    """A whole-number box for `low`..`high`. No min/max is given to Streamlit: with them the browser only
    reddens a value out of range and keeps the old one, silently. Here the box takes any whole number, or
    none, and a value out of range (or an emptied box) is put back to the last good one, with a toast naming
    the box and the range: "{label}: {value} is out of range, {what} {low} to {high}", what being e.g. "test
    digits are numbered"."""
    ss.setdefault(key, default)  # the box takes its value from the state (an int: the box is for whole numbers)
    # value=None lets the box be emptied (else Streamlit silently puts its default, 0, back): refused above.
    value = where.number_input(
        label, value=None, step=1, key=key, on_change=_keep_in_range, args=(key, label, low, high, what), **kwargs
    )
    value = ss.get(_good_key(key), default) if value is None else value  # emptied by a path with no callback
    value = int(min(max(value, low), high))  # a stored value from before the callback ran, e.g. from a link
    ss[_good_key(key)] = value
    return value
