"""One module per view, each with `render(ctx: Context) -> None` and its own LOOK_FOR line; VIEWS lists
them in the lecture's order. A new view is a module here and a line in VIEWS."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from explorer.context import Context
from explorer.pages import classroom, compare, digit, history, lessons, morph, plane, samples, sliders, train, tsne_map
from explorer.words.look_for import LookFor


@dataclass(frozen=True)
class View:
    url_path: str  # stable: it is the page's address (…/morph)
    title: str
    icon: str
    render: Callable[[Context], None]
    look_for: LookFor
    about_picked_model: bool = True  # False: the view does not show the sidebar's model (no "Model:" line)


VIEWS: tuple[View, ...] = (
    View("sliders", "Latent sliders", ":material/tune:", sliders.render, sliders.LOOK_FOR),
    View("samples", "Samples", ":material/casino:", samples.render, samples.LOOK_FOR),
    View("morph", "Morph two digits", ":material/swap_horiz:", morph.render, morph.LOOK_FOR),
    View("map", "t-SNE map", ":material/scatter_plot:", tsne_map.render, tsne_map.LOOK_FOR),
    View("plane", "2-D plane", ":material/grid_on:", plane.render, plane.LOOK_FOR),
    View("training", "Training", ":material/trending_down:", history.render, history.LOOK_FOR),
    View("digit", "Your own digit", ":material/draw:", digit.render, digit.LOOK_FOR),
    View("train", "Train a model", ":material/model_training:", train.render, train.LOOK_FOR, about_picked_model=False),
    View("compare", "Compare models", ":material/compare:", compare.render, compare.LOOK_FOR, about_picked_model=False),
    View("lessons", "Lessons", ":material/school:", lessons.render, lessons.LOOK_FOR, about_picked_model=False),
    View("class", "Class", ":material/groups:", classroom.render, classroom.LOOK_FOR),
)
