"""The t-SNE map of the test set's codes: hover a digit, click one, box or lasso a group; below, the map
as it formed over training."""

from __future__ import annotations

import streamlit as st

from explorer.context import Context
from explorer.jobs.maps import MAX_SNAPSHOT_MAPS
from explorer.service.resources import cached_test_set, shared_map_figure, shared_snapshot_figure
from explorer.state.links import write_address
from explorer.state.session import ACTIVE_MODEL, next_end, pick_on_map, set_code, set_next_end, ss
from explorer.state.session_models import session_keys
from explorer.ui.classroom import send_to_class
from explorer.ui.components.map_marks import map_marks
from explorer.ui.pictures import selection_grid, show_pixels, subset_rows
from explorer.ui.posterior_panel import show_posterior
from explorer.ui.widgets import guarded_fragment, pickable_chart
from explorer.words.app import (
    MAP_SNAPSHOTS_HELP,
    MAP_SNAPSHOTS_TRAINING,
    SNAPSHOTS_LEFT_OUT,
    map_help,
    reconstruction_caption,
)
from explorer.words.look_for import LookFor
from explorer.words.plain import plain
from vae.codes import decode_code
from vae.images import enlarge

LOOK_FOR = LookFor("Digits of the same kind cluster although the model never saw a label; look at the 4s and 9s.")

LECTURE_EPOCHS = (0, 1, 5, 10)  # the lecture shows 0, 5 and 10; the Training view has every snapshot


def lecture_snapshots(epochs: list[int]) -> list[int]:
    """The snapshot maps shown side by side: the lecture's epochs where kept, else the first four."""
    return [e for e in epochs if e in LECTURE_EPOCHS] or epochs[:4]


def render(ctx: Context) -> None:
    if ctx.atlas is None:
        from explorer.ui.map_progress import waiting_for_map

        if not waiting_for_map(ss.get(ACTIVE_MODEL, "")):
            st.error(plain(ctx.atlas_error))
        return
    st.caption(map_help(ctx.has_posterior, ctx.model.latent_dim, ctx.atlas.method == "latent"), unsafe_allow_html=True)
    map_and_pick(ctx)
    snapshots(ctx)


@guarded_fragment("map")  # a click reruns the map and its panel, not the sidebar and the snapshots
def map_and_pick(ctx: Context) -> None:
    atlas = ctx.atlas
    test = cached_test_set()
    pick = ss.get("map_pick")
    left, right = st.columns([3, 2], gap="large")
    with left:
        # No picture per point in the hover (that was 7.5 MB of JSON per opening): the hover names the
        # digit, a click shows it in the panel.
        # The same figure whatever is picked (a changed figure loses zoom and pan); the pick is marked over it.
        # The legend above the map: beside it, it took a third of a phone's width from a map that must stay square.
        figure = shared_map_figure(
            atlas.coords,
            atlas.labels,
            show_axes=atlas.method == "latent",
            revision=f"map:{ctx.key}",
            legend_on_top=True,
        )
        pickable_chart(figure, "tsne_map", pick_on_map)
        map_marks("tsne_map", atlas.coords, test.images, [("", pick)] if pick is not None else [])
    with right:
        rows = ss.get("map_rows") or []
        if pick is None and len(rows) < 2:
            st.info("Click (or tap) a dot on the map to pick that digit.")
        if pick is not None:
            label = int(test.labels[pick])
            mu = atlas.mu[pick]
            c1, c2 = st.columns(2)
            show_pixels(
                c1,
                enlarge(test.images[pick], 6),
                caption=f"test #{pick}: a {label}",
                alt=f"test digit #{pick}, a {label}",
            )
            show_pixels(
                c2,
                enlarge(decode_code(ctx.model, mu), 6),
                caption=reconstruction_caption(ctx.has_posterior),
                alt=f"test digit #{pick} as the model reconstructs it from its code",
            )
            b1, b2 = st.columns(2)
            b1.button(
                "Send to the sliders",
                on_click=set_code,
                args=(ctx.key, mu.tolist(), "sliders"),
                width="stretch",
            )
            b2.button(f"Make it morph end {next_end()}", on_click=set_next_end, args=(pick,), width="stretch")
            send_to_class("pick", {"row": int(pick), "label": label, "model": ctx.summary.name}, key="class_send_pick")
            show_posterior(ctx.model, test.images[pick], key="map", columns=4)
        if len(rows) > 1:
            grid = selection_grid(test.images, rows, limit=100, columns=10)
            shown = min(len(rows), 100)
            show_pixels(
                st,
                grid,
                caption=f"{len(rows)} selected digits" + (f" ({shown} at random)" if shown < len(rows) else ""),
                alt=f"{shown} of the {len(rows)} test digits selected on the map, in rows of 10",
            )
    write_address(ctx)  # the pick is part of the link; a click reruns this fragment only


def snapshots(ctx: Context) -> None:
    atlas = ctx.atlas
    if len(atlas.snapshot_coords) > 1:  # a run trained in the app keeps its last epoch only: nothing to watch
        st.subheader("How the map forms", divider="gray")
        # A session's own model (uploaded or trained here) has no record file, so no epoch slider.
        st.caption(MAP_SNAPSHOTS_HELP + ("" if ctx.key in session_keys() else MAP_SNAPSHOTS_TRAINING))
        shown = lecture_snapshots(sorted(atlas.snapshot_coords))
        rows = atlas.snapshot_rows
        sample = rows[subset_rows(len(rows), 3000)] if len(rows) > 3000 else rows
        coords = {epoch: atlas.snapshot_coords[epoch] for epoch in shown}
        st.plotly_chart(shared_snapshot_figure(coords, atlas.labels, sample), config={"displayModeBar": False})
        if atlas.snapshots_left_out:
            st.caption(SNAPSHOTS_LEFT_OUT.format(count=len(atlas.snapshots_left_out), most=MAX_SNAPSHOT_MAPS))
