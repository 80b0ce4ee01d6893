"""Cached, shared resources: models, maps, the test set and its hover pictures.

st.cache_resource objects are shared by every session: models stay in eval mode and nothing
cached is ever modified. Keys include the file's mtime and size, so a retrained file reloads.
"""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

from vae import LatentModel, load_checkpoint
from vae.atlas import Atlas, load_atlas
from vae.catalog import file_stamp
from vae.data import MnistSplit, load_mnist

LOG = logging.getLogger("explorer")


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
