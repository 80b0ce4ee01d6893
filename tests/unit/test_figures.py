"""The training figures: √ epoch axis, one curve per term and split, the panel grid, the bubbles' outlines."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from explorer.ui.figures import (
    LABEL_CHAR,
    LABEL_GAP,
    bubble_outlines,
    bubbles_figure,
    epoch_axis,
    epoch_ticks,
    loss_figure,
    panel_grid,
)


def history(epochs: int) -> list[dict]:
    def terms(e: int, shift: float) -> dict:
        return {"recon": 500 / (1 + e) + shift, "kl": 5.0 * e, "total": 500 / (1 + e) + 5.0 * e + shift}

    return [{"epoch": e, "train": terms(e, 0.0), "test": terms(e, 1.0)} for e in range(epochs + 1)]


def test_the_epoch_axis_is_square_root_scaled_so_the_first_epoch_gets_room() -> None:
    figure = loss_figure(history(16))
    assert len(figure.data) == 6  # recon, KL, total × training, test
    recon_train = figure.data[0]
    assert list(recon_train.x) == [float(np.sqrt(e)) for e in range(17)]
    assert recon_train.y[0] == 500 and figure.data[1].y[0] == 501  # test is the second curve
    axis = epoch_axis(16)
    assert axis["ticktext"][:3] == ["0", "1", "2"] and axis["tickvals"][1] == 1.0
    assert axis["range"][1] > 4.0  # √16: the frame ends at the last epoch


def test_epoch_labels_keep_clear_of_each_other_and_name_the_last_epoch() -> None:
    for last in (1, 10, 50, 100, 250, 400, 1000):
        ticks = epoch_ticks(last)
        assert ticks[0] == 0 and ticks[-1] == last
        for a, b in itertools.pairwise(ticks):
            room = (np.sqrt(b) - np.sqrt(a)) / np.sqrt(last)  # as a share of the axis
            assert room >= LABEL_CHAR * (len(str(a)) + len(str(b))) / 2 + LABEL_GAP, (last, a, b)
    assert epoch_ticks(400)[:3] == [0, 1, 10]  # the first epoch, where the loss falls most, keeps its label


def test_an_autoencoders_curves_are_its_reconstruction_alone() -> None:
    figure = loss_figure(history(3), has_posterior=False)
    assert len(figure.data) == 2  # training and test reconstruction: no KL, no −ELBO panel
    titles = [a.text for a in figure.layout.annotations]
    assert titles == ["reconstruction (the autoencoder's whole loss)"]
    assert not any("KL" in t or "ELBO" in t for t in titles)


def test_a_live_run_grows_into_a_fixed_frame() -> None:
    figure = loss_figure(history(2), max_epoch=50)
    assert figure.layout.xaxis.range[1] > np.sqrt(50)
    assert "50" in figure.layout.xaxis.ticktext


def test_epoch_zero_alone_is_drawn_from_zero_not_zoomed_onto_one_point() -> None:
    """A run in its first epoch, or cancelled there, has one point a curve: Plotly's own range would span a
    fraction of a nat around it (207.8–208.1 in the browser review), which reads as noise."""
    alone = loss_figure(history(0), max_epoch=5)
    axes = [alone.layout[name] for name in ("yaxis", "yaxis2", "yaxis3")]
    assert all(axis.rangemode == "tozero" for axis in axes)
    assert all(loss_figure(history(2)).layout[name].rangemode is None for name in ("yaxis", "yaxis2", "yaxis3"))


def test_the_panel_grid_puts_epochs_in_rows_and_digits_in_columns() -> None:
    originals = np.zeros((3, 28, 28), np.uint8)
    panels = [(e, np.full((3, 28, 28), 10 * (e + 1), np.uint8)) for e in range(4)]
    grid = panel_grid(panels, originals)
    assert grid.shape == (5 * 30 + 2, 3 * 30 + 2)
    assert grid[2, 2] == 0 and grid[32, 2] == 10 and grid[4 * 30 + 29, 2 * 30 + 29] == 40
    assert grid[30, 2] == 96  # the gutter between rows


def test_bubbles_are_one_outline_per_digit_with_gaps_between_ellipses() -> None:
    mu = np.array([[0.0, 0.0], [1.0, 2.0]], np.float32)
    logvar = np.log(np.array([[1.0, 4.0], [0.25, 0.25]], np.float32))
    xs, ys = bubble_outlines(mu, logvar, points=8)
    assert xs.shape == (18,) and np.isnan(xs[8]) and np.isnan(ys[17])
    assert np.isclose(xs[0], 1.0) and np.isclose(ys[:8].max(), 2.0, atol=0.1)  # σ = 1 across, 2 up
    figure = bubbles_figure(mu, logvar, np.array([3, 7]))
    assert [t.name for t in figure.data if t.mode == "markers"] == ["3", "7"]
    assert figure.layout.xaxis.range[1] >= 3.0


def test_the_total_is_called_the_elbo_only_at_beta_one() -> None:
    titles = [a.text for a in loss_figure(history(3)).layout.annotations]
    assert titles[-1] == "total (−ELBO)"
    for beta in (0.0, 0.1, 4.0):
        titles = [a.text for a in loss_figure(history(3), beta=beta).layout.annotations]
        assert "ELBO" not in titles[-1] and f"{beta:g}·KL" in titles[-1]


def test_bubble_outlines_are_the_mu_plus_minus_sigma_ellipses_with_gaps() -> None:
    mu = np.array([[1.0, 2.0], [0.0, 0.0], [-1.0, 5.0]])
    logvar = np.array([[math.log(4.0), 0.0], [0.0, 0.0], [0.0, math.log(9.0)]])
    xs, ys = bubble_outlines(mu, logvar, points=5)  # angles 0, π/2, π, 3π/2, 2π
    assert len(xs) == len(ys) == 3 * (5 + 1)
    assert np.flatnonzero(np.isnan(xs)).tolist() == np.flatnonzero(np.isnan(ys)).tolist() == [5, 11, 17]
    # first ellipse: centre (1, 2), σ = (2, 1)
    assert xs[0:5] == pytest.approx([3.0, 1.0, -1.0, 1.0, 3.0], abs=1e-5)
    assert ys[0:5] == pytest.approx([2.0, 3.0, 2.0, 1.0, 2.0], abs=1e-5)
    # magnified: the radii scale, the centres stay
    big_x, big_y = bubble_outlines(mu, logvar, points=5, scale=3.0)
    assert big_x[0:5] == pytest.approx([7.0, 1.0, -5.0, 1.0, 7.0], abs=1e-5)
    assert big_y[0:5] == pytest.approx([2.0, 5.0, 2.0, -1.0, 2.0], abs=1e-5)
    # third: centre (−1, 5), σ = (1, 3)
    assert xs[12:17] == pytest.approx([0.0, -1.0, -2.0, -1.0, 0.0], abs=1e-5)
    assert ys[12:17] == pytest.approx([5.0, 8.0, 5.0, 2.0, 5.0], abs=1e-5)
