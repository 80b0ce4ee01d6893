"""What the explorer shows, computed on real, tiny models (no mocks): the library parts it calls (vae.catalog,
vae.codes, vae.morph, vae.digit_analysis) and its own (slider values, display images, figures, selection, words)."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from explorer.pages.morph import digit_examples, morph_captions
from explorer.state.slider_values import dimension_order, slider_labels
from explorer.ui.digit_sources import canvas_has_ink
from explorer.ui.pictures import preview_stages, selection_grid, subset_rows
from explorer.words.app import friendly_error, morph_spherical_help
from explorer.words.catalog import describe, model_facts
from vae import CheckpointError, ModelConfig, build_model
from vae.atlas import AtlasError, unused_dimensions
from vae.catalog import (
    CheckpointListing,
    CheckpointSummary,
    autoencoder_for_comparison,
    file_stamp,
    list_checkpoints,
    plane_checkpoint,
    state_key,
    summarize_meta,
)
from vae.checkpoint import file_sha256, model_tensors, read_meta, write_checkpoint
from vae.codes import (
    PRIOR_EXTENT,
    decode_code,
    encode_means,
    fresh_seed,
    plane_extent,
    prior_samples,
    random_code,
)
from vae.digit_analysis import analyse_digit
from vae.latent import decode_to_uint8
from vae.losses import kl_to_prior, reconstruction_nats
from vae.meta import CheckpointMeta
from vae.morph import morph_row
from vae.preprocess import InvalidImageError, preprocess_steps

N_TEST = 60  # a small fake "test set" for maps and neighbours


def tiny_model(kind: str = "vae", latent_dim: int = 3, seed: int = 0):
    torch.manual_seed(seed)
    return build_model(ModelConfig(kind=kind, hidden_dim=16, latent_dim=latent_dim)).eval()


def fake_images(count: int = N_TEST, seed: int = 0) -> torch.Tensor:
    """Random blobs in [0, 1], shaped like flattened MNIST."""
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(count, 784, generator=generator) ** 3


def labels_for(count: int = N_TEST) -> np.ndarray:
    return np.arange(count) % 10


def meta_for(kind: str, latent_dim: int, **extra) -> dict:
    meta = {
        "model": {"kind": kind, "input_dim": 784, "hidden_dim": 16, "latent_dim": latent_dim},
        "kind": kind,
        "train": {"epochs": 10, "batch_size": 128, "lr": 1e-3, "lr_schedule": "constant", "beta": 1.0, "seed": 1},
        "epoch": 10,
        "history": [
            {
                "epoch": 10,
                "train": {"recon": 80.0, "kl": 25.0, "total": 105.0},
                "test": {"recon": 78, "kl": 26, "total": 104},
            }
        ],
    }
    meta.update(extra)
    return meta


def typed(meta: dict) -> CheckpointMeta:
    return CheckpointMeta.from_dict(meta)


def save_checkpoint(path, kind: str = "vae", latent_dim: int = 3, **extra) -> None:
    write_checkpoint(path, model_tensors(tiny_model(kind, latent_dim)), meta_for(kind, latent_dim, **extra))


# ---------------------------------------------------------------- checkpoint listing and metadata


def test_list_checkpoints_orders_default_first_and_skips_atlases_and_broken_files(tmp_path):
    save_checkpoint(tmp_path / "ae_d20.safetensors", "ae", 20)
    save_checkpoint(tmp_path / "vae_d2.safetensors", "vae", 2)
    save_checkpoint(tmp_path / "vae_d20.safetensors", "vae", 20)
    save_checkpoint(tmp_path / ".vae_d20.safetensors.tmp.safetensors", "vae", 20)  # an interrupted write
    (tmp_path / "vae_d20.atlas.safetensors").write_bytes(b"not a checkpoint")
    (tmp_path / "broken.safetensors").write_bytes(b"\x00" * 16)
    listing = list_checkpoints(tmp_path)
    assert [c.name for c in listing.checkpoints] == ["vae_d20.safetensors", "vae_d2.safetensors", "ae_d20.safetensors"]
    assert len(listing.skipped) == 1 and "broken.safetensors" in listing.skipped[0]
    assert list_checkpoints(tmp_path / "missing") == CheckpointListing([], [])


def test_a_replaced_checkpoint_is_listed_as_it_is_now(tmp_path):
    """The listing keeps each file's summary by (path, mtime, size): a file replaced in place is read again."""
    path = tmp_path / "model.safetensors"
    save_checkpoint(path, "vae", 2)
    assert [c.latent_dim for c in list_checkpoints(tmp_path).checkpoints] == [2]
    save_checkpoint(path, "ae", 20)
    assert [(c.kind, c.latent_dim) for c in list_checkpoints(tmp_path).checkpoints] == [("ae", 20)]
    path.write_bytes(b"\x00" * 16)
    listing = list_checkpoints(tmp_path)
    assert listing.checkpoints == [] and "model.safetensors" in listing.skipped[0]


def test_read_meta_reads_the_header_and_refuses_foreign_files(tmp_path):
    from safetensors.torch import save_file

    save_checkpoint(tmp_path / "m.safetensors", "vae", 4)
    assert read_meta(tmp_path / "m.safetensors").model.latent_dim == 4
    save_file({"w": torch.zeros(2)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(CheckpointError, match="not a VAE explorer checkpoint"):
        read_meta(tmp_path / "other.safetensors")
    with pytest.raises(CheckpointError):
        read_meta(tmp_path / "absent.safetensors")


def test_summary_prefers_the_exported_evaluation_then_the_last_test_epoch():
    evaluated = meta_for(
        "vae", 20, evaluation={"images": 10000, "recon": 77.0, "kl": 25.0, "neg_elbo": 102.0, "k": 1000}
    )
    summary = summarize_meta(typed(evaluated), "vae_d20.safetensors")
    assert (summary.kind, summary.latent_dim, summary.beta, summary.epochs) == ("vae", 20, 1.0, 10)
    assert summary.test_loss == 102.0 and summary.test_loss_label == "−ELBO"
    assert describe(summary) == "VAE · d=20 · β = 1 · 10 epochs · test −ELBO 102.0 nats"

    trained = summarize_meta(typed(meta_for("vae", 20)), "run.safetensors")
    assert trained.test_loss == 104.0 and trained.test_loss_label == "−ELBO"

    beta4 = meta_for("vae", 20)
    beta4["train"]["beta"] = 4.0
    beta4["history"][-1]["test"]["total"] = 78 + 4 * 26  # its objective, recon + β·KL
    summary4 = summarize_meta(typed(beta4), "b.safetensors")
    # The −ELBO (recon + KL), not the objective recon + β·KL: models of any β compare on one bound.
    assert (summary4.test_loss, summary4.test_loss_label) == (104.0, "−ELBO")

    autoencoder = summarize_meta(
        typed(meta_for("ae", 20, evaluation={"recon": 70.0, "images": 10000})), "ae_d20.safetensors"
    )
    assert autoencoder.test_loss == 104.0  # its last epoch's total; the AE has no −ELBO
    assert describe(autoencoder).startswith("AE · d=20 · 10 epochs") and "β" not in describe(autoencoder)

    bare = summarize_meta(typed({"model": {"kind": "vae", "latent_dim": 5}}), "bare.safetensors")
    assert describe(bare) == "VAE · d=5" and bare.test_loss is None


def test_model_facts():
    meta = typed(
        meta_for(
            "vae",
            20,
            evaluation={"images": 10000, "recon": 77.0, "kl": 25.0, "neg_elbo": 102.0, "neg_iwae_k": 97.5, "k": 1000},
        )
    )
    facts = dict(model_facts(meta))
    assert facts["layers"] == "784 → 16 → 20"
    assert facts["test −ELBO"] == "102.0 nats"
    assert facts["−log p(x) bound (IWAE, k=1000)"] == "97.5 nats"
    assert "test KL" not in dict(model_facts(typed(meta_for("ae", 20))))
    assert dict(model_facts(typed(meta_for("vae", 20))))["test −ELBO"] == "104.0 nats"  # a run's last epoch: 78 + 26
    assert "test −ELBO" not in dict(model_facts(typed(meta_for("ae", 20))))


def test_autoencoder_comparison_and_plane_model_availability(tmp_path):
    def summary(name: str, kind: str, d: int) -> CheckpointSummary:
        return summarize_meta(typed(meta_for(kind, d)), tmp_path / name)

    vae20, vae2 = summary("vae_d20.safetensors", "vae", 20), summary("vae_d2.safetensors", "vae", 2)
    ae2, ae20 = summary("ae_d2.safetensors", "ae", 2), summary("ae_d20.safetensors", "ae", 20)
    listing = [vae20, vae2, ae2, ae20]
    assert autoencoder_for_comparison(listing, vae20) == ae20  # same d preferred
    assert autoencoder_for_comparison(listing, vae2) == ae2
    assert autoencoder_for_comparison([vae20, ae2], vae20) == ae2  # any autoencoder beats none
    assert autoencoder_for_comparison(listing, ae20) is None  # only shown beside a VAE
    assert autoencoder_for_comparison([vae20, vae2], vae20) is None
    assert plane_checkpoint(listing) == vae2
    assert plane_checkpoint([vae20, ae2]) is None  # a 2-D autoencoder has no bubbles to show


def test_file_stamp_changes_when_the_file_is_replaced_and_state_keys_are_stable(tmp_path):
    path = tmp_path / "m.safetensors"
    assert file_stamp(path) == (str(path), 0, 0)
    save_checkpoint(path, "vae", 3)
    first = file_stamp(path)
    save_checkpoint(path, "vae", 5)
    assert file_stamp(path) != first
    assert state_key(path) == state_key(str(path)) != state_key(tmp_path / "n.safetensors")


# ---------------------------------------------------------------- sliders


def test_slider_labels_follow_usage_and_show_it():
    usage = np.array([0.01, 2.31, 0.9], dtype=np.float32)
    labels = slider_labels(usage, "mean KL (nats)", 3)
    assert labels == [(1, "z1 · 2.31 nats"), (2, "z2 · 0.90 nats"), (0, "z0 · 0.01 nats (unused)")]
    assert slider_labels(np.array([0.5, 1.5]), "std of the code", 2) == [(1, "z1 · std 1.50"), (0, "z0 · std 0.50")]
    assert slider_labels(None, "", 2) == [(0, "z0"), (1, "z1")]
    assert dimension_order(usage, 3) == [1, 2, 0] and dimension_order(None, 3) == [0, 1, 2]
    assert unused_dimensions(usage, "mean KL (nats)") == 1
    assert unused_dimensions(usage, "std of the code") == 0


def test_decode_code_and_random_code():
    model = tiny_model(latent_dim=3)
    image = decode_code(model, [0.5, -1.0, 2.0])
    assert image.shape == (28, 28) and image.dtype == np.uint8
    assert np.array_equal(image, decode_to_uint8(model, torch.tensor([[0.5, -1.0, 2.0]]))[0].numpy())
    assert random_code(3, seed=5) == random_code(3, seed=5) != random_code(3, seed=6)
    assert 0 <= fresh_seed() < 1_000_000


def test_encode_means_is_the_encoder_mean_without_noise():
    model = tiny_model()
    images = fake_images(4)
    assert torch.equal(encode_means(model, images), model.encode(images)[0].detach())
    assert encode_means(model, images[0]).shape == (1, 3)


# ---------------------------------------------------------------- prior samples


def test_prior_samples_are_reproducible_from_the_seed():
    model = tiny_model()
    first, again, other = (prior_samples(model, 8, 1.0, seed) for seed in (3, 3, 4))
    assert first.images.shape == (8, 28, 28) and first.codes.shape == (8, 3)
    assert np.array_equal(first.images, again.images)
    assert not np.array_equal(first.images, other.images)
    cold = prior_samples(model, 8, 0.1, 3)
    assert torch.allclose(cold.codes, first.codes * 0.1)
    with pytest.raises(ValueError):
        prior_samples(model, 0, 1.0, 0)


# ---------------------------------------------------------------- morphs


@pytest.mark.parametrize("frames", [1, 10])
def test_morph_row_has_the_originals_reconstructions_and_k_frames(frames):
    model = tiny_model()
    images = fake_images(2)
    row = morph_row(model, images[0], images[1], frames, "linear")
    assert row.images.shape == (frames + 4, 28, 28) and row.images.dtype == np.uint8
    assert row.frames.shape[0] == frames and len(morph_captions(frames)) == frames + 4
    assert np.array_equal(row.images[0], (images[0].reshape(28, 28) * 255).round().numpy().astype(np.uint8))
    mu = encode_means(model, images)
    assert np.array_equal(row.images[1], decode_to_uint8(model, mu[:1])[0].numpy())
    assert np.array_equal(row.images[-2], decode_to_uint8(model, mu[1:])[0].numpy())
    gif = Image.open(io.BytesIO(row.gif()))
    assert gif.format == "GIF" and gif.n_frames == max(frames + 2, 2) * 2 - 2
    strip = Image.open(io.BytesIO(row.png(scale=1)))
    assert strip.size == ((frames + 4) * 30 + 2, 32)


def test_linear_and_spherical_morphs_differ_but_share_their_ends():
    model = tiny_model()
    images = fake_images(2, seed=3)
    linear = morph_row(model, images[0], images[1], 5, "linear")
    spherical = morph_row(model, images[0], images[1], 5, "spherical")
    assert np.array_equal(linear.images[:2], spherical.images[:2])
    assert not np.array_equal(linear.frames, spherical.frames)
    with pytest.raises(ValueError):
        morph_row(model, images[0], images[1], 5, "wiggly")


def test_morph_captions_count_the_way_from_a_to_b():
    assert morph_captions(3) == ["A", "recon A", "t=0.25", "t=0.50", "t=0.75", "recon B", "B"]


# ---------------------------------------------------------------- maps and selections


def test_digit_examples_subsets_and_selection_grids():
    labels = np.array([3, 1, 1, 0, 3, 2])
    assert digit_examples(labels) == [3, 1, 5, 0]
    rows = subset_rows(100, 30, seed=1)
    assert len(rows) == 30 == len(set(rows.tolist())) and np.all(np.diff(rows) > 0)
    assert np.array_equal(rows, subset_rows(100, 30, seed=1))
    assert len(subset_rows(10, 50)) == 10
    images = fake_images(30)
    assert selection_grid(images, []) is None
    grid = selection_grid(images, list(range(25)), limit=12, columns=5)
    assert grid.shape == (3 * 30 + 2, 5 * 30 + 2)
    # Past the limit, digits from across the selection: a box over two clusters shows both, not the first.
    two_clusters = np.concatenate((np.zeros((200, 28, 28), np.uint8), np.full((100, 28, 28), 255, np.uint8)))
    shown = selection_grid(two_clusters, list(range(300)), limit=30, columns=10)
    assert (shown == 255).sum() > 5 * 28 * 28  # white digits among the black ones (the first 30 are all black)


def test_plane_extent_covers_the_means_and_never_shrinks_below_the_prior():
    assert plane_extent(np.zeros((100, 2))) == PRIOR_EXTENT
    spread = np.linspace(-4.2, 4.2, 1001)[:, None].repeat(2, axis=1)
    assert plane_extent(spread, coverage=100) == 4.5
    assert plane_extent(spread, coverage=50) == PRIOR_EXTENT


def seven_png() -> bytes:
    image = Image.new("L", (200, 200), 255)
    ImageDraw.Draw(image).line([(50, 40), (150, 40), (90, 170)], fill=0, width=18)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def test_analyse_digit_reports_the_loss_terms_code_and_neighbours():
    model = tiny_model()
    tensor = preprocess_steps(seven_png()).tensor
    x = tensor.reshape(1, 784)
    bank = fake_images(N_TEST)
    bank[17] = x[0]  # the digit itself is in the bank: it must come out as its own nearest neighbour
    bank_mu = encode_means(model, bank).numpy()
    coords = np.random.default_rng(0).normal(size=(N_TEST, 2)).astype(np.float32)
    before = bank_mu.copy()
    analysis = analyse_digit(model, tensor, bank_mu, coords, k=5)
    mu, logvar = model.encode(x)
    with torch.no_grad():
        assert analysis.recon_nats == pytest.approx(float(reconstruction_nats(model.decode_logits(mu), x)), rel=1e-5)
        assert analysis.kl_nats == pytest.approx(float(kl_to_prior(mu, logvar)), rel=1e-5)
    assert analysis.mu.shape == (3,) and analysis.sigma.shape == (3,) and np.all(analysis.sigma > 0)
    assert analysis.reconstruction.shape == (28, 28) and analysis.reconstruction.dtype == np.uint8
    assert analysis.neighbours[0] == 17 and analysis.distances[0] == pytest.approx(0, abs=1e-4)
    assert len(analysis.neighbours) == 5 and np.all(np.diff(analysis.distances) >= 0)
    assert analysis.map_xy == pytest.approx(tuple(coords[17]), abs=1e-3)  # an exact match dominates the weights
    assert np.array_equal(bank_mu, before)  # shared (cached) arrays are never written


def test_analyse_digit_for_an_autoencoder_and_without_an_atlas():
    analysis = analyse_digit(tiny_model("ae"), preprocess_steps(seven_png()).tensor)
    assert analysis.sigma is None and analysis.kl_nats is None and analysis.map_xy is None
    assert analysis.recon_nats > 0 and len(analysis.neighbours) == 0


def test_preview_stages_share_one_size():
    stages = preprocess_steps(seven_png()).stages()
    previews = preview_stages(stages, size=100)
    assert [c.removesuffix(" (contrast stretched)") for c in previews] == list(stages)
    assert all(image.size == (100, 100) and image.mode == "L" for image in previews.values())
    # Each tile is framed (a white stage on a white page showed nothing), and the digit's crop keeps a black
    # margin inside it (its strokes touched the tile's grey and looked cut off).
    for image in previews.values():
        shown = np.asarray(image)
        assert (shown[0] == 128).all() and (shown[-1] == 128).all() and (shown[:, 0] == 128).all()
    strokes = np.asarray(previews["MNIST strokes"])
    inner = strokes[1:-1, 1:-1]
    crop_cols = np.flatnonzero((inner != 40).any(axis=0))  # the crop's columns, margin included
    ink_cols = np.flatnonzero((inner > 128).any(axis=0))
    assert ink_cols[0] > crop_cols[0] and ink_cols[-1] < crop_cols[-1]


def test_the_paper_and_light_stage_is_shown_with_its_contrast_stretched():
    light = Image.fromarray(np.tile(np.linspace(226, 236, 64), (64, 1)).astype(np.uint8))  # 10 grey levels of light
    (caption,) = preview_stages({"Paper and light": light}, size=64)
    shown = np.asarray(preview_stages({"Paper and light": light}, size=64)[caption])
    assert caption == "Paper and light (contrast stretched)" and shown.min() < 20 and shown.max() > 235


def test_canvas_has_ink():
    assert not canvas_has_ink(None)
    assert not canvas_has_ink({"objects": []})
    assert canvas_has_ink({"objects": [{"type": "path"}]})


def test_friendly_error_keeps_known_messages_and_hides_the_rest():
    assert friendly_error(InvalidImageError("The image looks blank.")) == r"The image looks blank\."
    assert friendly_error(AtlasError("no map; rebuild it")) == "no map; rebuild it"
    assert friendly_error(CheckpointError("bad [file](x.example)")) == r"bad \[file\]\(x\.example\)"
    message = friendly_error(KeyError("internal_detail_xyz"))
    assert "internal_detail_xyz" not in message and "KeyError" in message and "still works" in message


# ---------------------------------------------------------------- figures


def point_ids(figure) -> list[int]:
    return [int(row) for trace in figure.data if trace.customdata is not None for row in np.ravel(trace.customdata)]


def test_map_figure_has_one_trace_per_digit_with_row_ids():
    from explorer.ui.figures import map_figure

    labels = labels_for()
    coords = np.random.default_rng(1).normal(size=(N_TEST, 2)).astype(np.float32)
    figure = map_figure(coords, labels, hover=[f"h{i}" for i in range(N_TEST)])
    assert len(figure.data) == 10
    assert sorted(point_ids(figure)) == list(range(N_TEST))
    for trace in figure.data:
        rows = np.asarray(trace.customdata)
        assert set(labels[rows]) == {int(trace.name)}
        assert np.allclose(trace.x, coords[rows, 0], atol=1e-3) and list(trace.text) == [f"h{r}" for r in rows]
    assert figure.layout.hoverlabel.font.family.endswith("monospace")  # the hover label style is set
    assert figure.layout.legend.orientation is None  # beside the map, Plotly's default
    narrow = map_figure(coords, labels, legend_on_top=True)  # the Morph view's column: a row above the map
    assert narrow.layout.legend.orientation == "h" and narrow.layout.legend.yanchor == "bottom"


def test_snapshot_figure_has_a_panel_per_epoch():
    from explorer.ui.figures import snapshot_figure

    labels = labels_for()
    snapshots = {e: np.random.default_rng(e).normal(size=(N_TEST, 2)).astype(np.float32) for e in (0, 5, 10)}
    figure = snapshot_figure(snapshots, labels, rows=np.arange(0, N_TEST, 2))
    assert len(figure.data) == 3 * 5  # even rows only hold the even digits
    assert [a.text for a in figure.layout.annotations] == ["epoch 0", "epoch 5", "epoch 10"]
    assert sum(len(trace.x) for trace in figure.data) == 3 * N_TEST // 2
    assert not any(trace.showlegend for trace in figure.data)  # thumbnails: the big map above has the legend
    alone = snapshot_figure({10: snapshots[10]}, labels, rows=np.arange(0, N_TEST, 2), legend=True)
    assert [trace.name for trace in alone.data if trace.showlegend] == ["0", "2", "4", "6", "8"]


def test_plane_figure_has_a_click_grid_ellipses_and_means():
    from explorer.ui.figures import plane_figure

    labels = labels_for()
    mu = np.random.default_rng(2).normal(size=(N_TEST, 2)).astype(np.float32)
    logvar = np.full((N_TEST, 2), -2.0, dtype=np.float32)
    rows = np.arange(20)
    figure = plane_figure(mu, logvar, labels, rows, extent=3.0, click_steps=11)
    grid, *digits = figure.data
    assert len(grid.x) == 121 and grid.customdata is None
    assert len(digits) == 2 * 10  # an ellipse trace and a mean trace per digit
    assert sorted(point_ids(figure)) == list(range(20))
    assert list(figure.layout.xaxis.range) == [-3.0, 3.0]
    assert len(plane_figure(mu, None, labels, rows).data) == 1 + 10  # an autoencoder has no bubbles


def test_code_figure_plots_mu_with_sigma_in_usage_order():
    from explorer.ui.figures import code_figure

    figure = code_figure(np.array([0.1, 2.0, -1.0]), np.array([1.0, 0.1, 0.5]), [1, 2, 0])
    (trace,) = figure.data
    assert list(trace.x) == ["z1", "z2", "z0"] and list(trace.y) == [2.0, -1.0, 0.1]
    assert list(trace.error_y.array) == [0.1, 0.5, 1.0]
    assert len(figure.layout.shapes) == 1  # the prior's ±1 band behind a VAE's code
    autoencoder = code_figure(np.zeros(2), None, [0, 1])
    assert autoencoder.data[0].error_y.array is None and not autoencoder.layout.shapes  # no prior to draw


# ---------------------------------------------------------------- the shipped checkpoints


def test_shipped_checkpoints_list_and_summarise():
    from vae.paths import checkpoint_dir

    listing = list_checkpoints(checkpoint_dir())
    if not listing.checkpoints:
        pytest.skip(f"no checkpoints in {checkpoint_dir()} yet")
    assert not listing.skipped
    for summary in listing.checkpoints:
        meta = read_meta(summary.path)
        assert summary.latent_dim == meta.model.latent_dim and summary.test_loss is not None
        assert json.dumps(model_facts(meta))
    assert file_sha256(listing.checkpoints[0].path)


def test_the_spherical_morphs_shell_argument_is_made_only_where_it_holds():
    assert "√d" in morph_spherical_help(True, 20)
    assert "√d" not in morph_spherical_help(True, 2) and "densest at the centre" in morph_spherical_help(True, 2)
    assert "√d" not in morph_spherical_help(False, 20)  # an autoencoder has no prior
