"""Cached, shared resources: models, maps, the test set, and the figures drawn from a map alone.

st.cache_resource objects are shared by every session: models stay in eval mode and nothing
cached is ever modified. Keys include the file's mtime and size, so a retrained file reloads.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import streamlit as st

from vae import LatentModel, load_checkpoint
from vae.atlas import Atlas, load_atlas
from vae.catalog import file_stamp
from vae.data import MnistSplit, load_mnist

if TYPE_CHECKING:
    import plotly.graph_objects as go

LOG = logging.getLogger("explorer")
T = TypeVar("T")


@st.cache_resource(show_spinner="Loading the model…", max_entries=8)
def cached_model(stamp: tuple[str, int, int]) -> LatentModel:
    return load_checkpoint(stamp[0])


@st.cache_resource(show_spinner="Loading the map…", max_entries=8)
def cached_atlas(stamp: tuple[str, int, int], atlas_stamp: tuple[str, int, int]) -> Atlas:
    # atlas_stamp is only part of the cache key: a rebuilt atlas file is loaded again.
    return load_atlas(stamp[0])


@st.cache_resource(show_spinner="Loading the MNIST test set…")
def cached_test_set() -> MnistSplit:
    return load_mnist("test", progress=LOG.info, allow_download=False)


def model_at(path: str | Path) -> LatentModel:
    return cached_model(file_stamp(path))


# A map's figures are the same for every visitor of a model, and building a Plotly figure of the 10,000
# test codes is most of a map view's run: built once per map (the arrays are the key) and only read after.
@st.cache_resource(show_spinner=False, max_entries=16)
def shared_map_figure(
    coords: np.ndarray, labels: np.ndarray, show_axes: bool, revision: str, legend_on_top: bool, height: int = 560
) -> go.Figure:
    from explorer.ui.figures import ReadOnlyFigure, map_figure

    return ReadOnlyFigure(
        map_figure(coords, labels, show_axes=show_axes, revision=revision, legend_on_top=legend_on_top, height=height)
    )


@st.cache_resource(show_spinner=False, max_entries=16)
def shared_snapshot_figure(
    snapshot_coords: Mapping[int, np.ndarray],
    labels: np.ndarray,
    rows: np.ndarray,
    height: int = 260,
    legend: bool = False,
) -> go.Figure:
    from explorer.ui.figures import ReadOnlyFigure, snapshot_figure

    return ReadOnlyFigure(snapshot_figure(snapshot_coords, labels, rows, height=height, legend=legend))


def model_identity(model: LatentModel) -> str:
    """The model's weights, named by their recorded digest (every checkpoint carries it)."""
    return model.meta.raw.get("weights_sha256") or f"object {id(model)}"


@st.cache_resource(show_spinner=False, max_entries=64)
def shared_result(identity: str, name: str, args: Hashable, _compute: Callable[[], T]) -> T:
    """What `_compute` gives for a model (`identity`) and small arguments, once for every visitor: a class
    opening the same morph asks for the same frames a hundred times. Only read after, like every cached thing."""
    return _compute()
