"""Widgets every view shares: the error boundary (for views and for fragments) and the pickable chart."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial, wraps
from typing import ParamSpec

import streamlit as st

from explorer.resources import LOG
from explorer.text import friendly_error

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
    """A Plotly chart whose click, box or lasso calls on_pick(key); plotly_chart passes its callback no args."""
    st.plotly_chart(
        figure, key=key, on_select=partial(on_pick, key), selection_mode=modes, config={"displaylogo": False}
    )
