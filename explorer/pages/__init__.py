"""One module per view, each with `render(ctx: Context) -> None`; VIEWS lists them in the lecture's order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from explorer.model_picker import Context
from explorer.views import compare, digit, map, morph, plane, samples, sliders, train, training


@dataclass(frozen=True)
class View:
    url_path: str  # stable: it is the page's address (…/morph) and its key in LOOK_FOR
    title: str
    icon: str
    render: Callable[[Context], None]
    about_picked_model: bool = True  # False: the view does not show the sidebar's model (no "Model:" line)


VIEWS: tuple[View, ...] = (
    View("sliders", "Latent sliders", ":material/tune:", sliders.render),
    View("samples", "Samples", ":material/casino:", samples.render),
    View("morph", "Morph two digits", ":material/swap_horiz:", morph.render),
    View("map", "t-SNE map", ":material/scatter_plot:", map.render),
    View("plane", "2-D plane", ":material/grid_on:", plane.render),
    View("training", "Training", ":material/trending_down:", training.render),
    View("digit", "Your own digit", ":material/draw:", digit.render),
    View("train", "Train a model", ":material/model_training:", train.render, about_picked_model=False),
    View("compare", "Compare models", ":material/compare:", compare.render, about_picked_model=False),
)
