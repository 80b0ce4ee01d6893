"""The app's words: the introduction, each view's "what to look for" line and explanations, and the
one-line messages that replace tracebacks. A VAE's pages may speak of μ, σ, the prior and KL; a plain
autoencoder has none of those, so its pages speak of codes."""

from __future__ import annotations

from vae.data import FETCH_COMMAND

APP_TITLE = "VAE Latent Explorer"
TAGLINE = "What a variational autoencoder learns on MNIST: NYU Deep Learning, week 8."
INTRO = (
    "An autoencoder squeezes each 28×28 digit into a short code z and draws the digit back from it. "
    "Start here: drag the sliders to move through the codes and watch the decoder draw; then follow the views "
    "in the menu, in the lecture's order."
)

# The ranges a whole-number box names when it refuses a value (explorer.ui.widgets.ranged_int_input).
TEST_ROWS = "test digits are numbered"
SEEDS = "seeds go from"

NO_MODEL = (
    "No model to explore yet: {folder} holds no checkpoint. Train one with `python -m vae train`, then map it "
    "with `python -m vae atlas <checkpoint>`, or upload a checkpoint in the sidebar."
)

CAPTION_UPLOAD = "a .safetensors checkpoint from your computer, for this session only"
CAPTION_SERVER_PATH = "a checkpoint path on the server (the operator turned this on)"
UPLOAD_HELP = (
    "A checkpoint written by `python -m vae train` or `python -m vae export`, up to 20 MB. It is checked like "
    "any checkpoint and kept for your session only: its copy on the server's disk, made while its map is "
    "built, is deleted once the map is ready, and the model itself about a minute after you close the tab."
)
MAP_BEING_BUILT = "Its map is being built: this view shows it as soon as it is ready."


def sliders_help(vae: bool, latent_dim: int, unused: int, extent: float) -> str:
    if not vae:
        return (
            f"An autoencoder's codes have no set range, so the sliders span ±{extent:g}, as far as its test codes "
            "reach; the number is how much a coordinate varies across test digits (its standard deviation). "
            "The digit is decoded in your browser while you drag."
        )
    return (
        f"Each slider is one of the {latent_dim} coordinates of the code z, over ±{extent:g}: every test digit's "
        "code and random samples up to temperature 2 fit (a value beyond is kept and shown in red). "
        "The digit is decoded in your browser while you drag. "
        "They are sorted by how much the model uses them: the number is the average KL (in nats) that a "
        "test digit's posterior spends on that coordinate. Near 0 nats means the encoder always answers "
        "“N(0, 1)” there, so the decoder learned to ignore it: move it and nothing changes."
        + (f" This model leaves **{unused} of {latent_dim}** coordinates unused." if unused else "")
    )


def samples_help(vae: bool, latent_dim: int) -> str:
    if not vae:
        return (
            f"Each digit is decoded from a random {latent_dim}-D code z ~ N(0, T²·I): lower T stays near the "
            "centre, higher T wanders further out. The same seed always gives the same digits."
        )
    return (
        f"Each digit is decoded from a fresh z ~ N(0, T²·I) in {latent_dim} dimensions. "
        "At T = 1 you sample the prior the VAE was trained towards; lower T stays near the centre (cleaner, "
        "more average digits), higher T wanders to the rim (stranger ones). The same seed always gives the same digits."
    )


AE_SAMPLES_WARNING = (
    "A plain autoencoder was never asked to put its codes anywhere in particular, so most of these random "
    "codes land where no training digit was, and decode to blobs. That is what a VAE's training fixes."
)


def morph_linear_help(vae: bool) -> str:
    ends = "μ_A and μ_B" if vae else "z_A and z_B"
    return f"A straight line between the two codes {ends}, decoded every step of the way."


def morph_spherical_help(vae: bool, latent_dim: int) -> str:
    if not vae:
        return "The arc turns from one code to the other, keeping a length between the two codes' lengths."
    if latent_dim <= 3:  # the shell argument needs many dimensions: in 2-D the prior is densest at the centre
        return (
            "The arc turns from one code to the other at a length between theirs, where the line cuts closer to "
            "the centre. In 2-D the prior is densest at the centre, so here the two rows differ little."
        )
    return (
        "In many dimensions almost all of the prior's mass sits on a shell of radius ≈ √d; the straight line cuts "
        "through the emptier middle, the arc stays on the shell."
    )


MORPH_AUTOENCODER_HELP = (
    "The autoencoder was only asked to reconstruct: its codes are isolated points with empty space "
    "between them, which the decoder never learned to draw. So its in-between frames are ghostly "
    "overlays of A and B, not digits. The VAE's noise and KL term pack the posterior bubbles tightly "
    "together, so every point on the way decodes to something digit-like."
)


def by_pointer(mouse: str, touch: str) -> str:
    """Both wordings, as HTML for st.markdown/st.caption(unsafe_allow_html=True): the page shows the mouse's
    ("click", "hover") or, on a touch screen, the finger's ("tap") (explorer/ui/page.css, pointer: coarse).
    Only for the app's own words: nothing here is escaped."""
    return f'<span class="hint-mouse">{mouse}</span><span class="hint-touch">{touch}</span>'


MAP_HINT = by_pointer(
    "Hover to name a digit, click one to see it, or draw a box or lasso to see a group; scroll to zoom.",
    "Tap a dot to see that digit. Swipes scroll the page; turn on “Pan and zoom” to drag and pinch the map.",
)
MORPH_MAP_HINT = by_pointer(
    "Click a dot to set the next end. Scroll to zoom into a cluster, drag to pan, double-click to see the whole "
    "map again.",
    "Tap a dot to set the next end. Swipes scroll the page; turn on “Pan and zoom” under the map to drag it and "
    "pinch to zoom.",
)


def map_help(vae: bool, latent_dim: int, latent_plane: bool) -> str:
    codes = "μ" if vae else "code"
    if latent_plane:
        return (
            f"This model's latent space is 2-D, so this map *is* the latent plane: every dot sits at a test "
            f"digit's {codes} = (z0, z1), no t-SNE needed. Colours are the true labels, which the model never saw."
        )
    return (
        f"Each dot is one of the 10,000 test digits' {'means μ' if vae else 'codes'} ({latent_dim}-D), squeezed "
        "onto the page by t-SNE, which keeps neighbours together. Colours are the true labels, which the model never "
        "saw: it grouped the digits by itself. Closeness is meaningful, distances between clusters much less. "
        + MAP_HINT
    )


MAP_SNAPSHOTS_HELP = (
    "The same test digits encoded by the model at several epochs of its training (each map rotated to "
    "match the final one). At epoch 0 the untrained encoder groups only the most distinct digits (its random "
    "weights still keep similar pictures near each other) and mixes the rest; clusters appear within the first "
    "epochs and then sharpen."
)
MAP_SNAPSHOTS_TRAINING = " The Training view has every kept epoch, with its samples and morphs."


def reconstruction_caption(vae: bool) -> str:
    return f"its reconstruction (decoded {'μ' if vae else 'code'})"


PLANE_BUBBLES_HELP = (
    "1 is true size. This model is very sure of each code, so its bubbles are smaller than the dots: "
    "magnify them to see their shapes and how they pack."
)
PLANE_AE_HELP = (
    "A plain autoencoder gives each test digit a single point; nothing pulls the points together, and the "
    "decoder draws nonsense in the empty space between them."
)
PLANE_VAE_HELP = (
    "Each test digit's encoder output is a bubble: centre μ, radius σ along each axis "
    "(drawn as μ ± σ, or magnified with the slider below). "
    "Reconstruction pushes the bubbles of different digits apart, since overlapping bubbles would blur them. "
    "The KL term is a spring that pulls every bubble towards the origin and keeps it from shrinking. "
    "Together they pack the bubbles densely around 0 without gaps, so every point of the plane, including "
    "the ones under your pointer, decodes to a plausible digit. Compare the two pictures: same axes, same place."
)


CODE_PRIOR_HELP = (
    "The grey band is the prior's ±1. Coordinates the model uses get a precise value (small σ); ignored "
    "ones stay at μ ≈ 0, σ ≈ 1: exactly the prior, costing no KL."
)


def friendly_error(exc: BaseException) -> str:
    """A message for a person, never a traceback: known problems say what they are, others stay generic."""
    from explorer.jobs.heavy_work import ServerBusy
    from explorer.words.plain import plain
    from vae.atlas import AtlasError
    from vae.checkpoint import CheckpointError
    from vae.data import DataError
    from vae.preprocess import InvalidImageError

    if isinstance(exc, CheckpointError | AtlasError | InvalidImageError | DataError | ServerBusy):
        return plain(exc)  # these quote file names and metadata: text, never Markdown
    if isinstance(exc, MemoryError):
        return "This view ran out of memory. Try fewer samples or frames."
    return (
        f"Something went wrong in this view ({type(exc).__name__}). The rest of the app still works: "
        "try other settings, another view or another model."
    )


# Under the "Copy link" button while the picker holds an uploaded or trained model: links name shipped ones.
SESSION_MODEL_LINK = (
    "{model} lives in this session only, so a link cannot bring it: the link opens {fallback}, "
    "with the rest of this view."
)
RESTORED_NOTE = (
    "Restored from the page's address ({parts}), as after a server restart or a copied link; "
    "what the address does not hold (an upload, a drawing) starts afresh."
)


TRAINING_CURVES_HELP = (
    "Nats per image, training (solid) and test (dashed). The epoch axis is a square root, so the first epoch, "
    "where the loss falls the most, gets room. Epoch 0 is the model before its first step: these models start "
    "their decoder at the mean training image, so they begin near 200 nats rather than the lecture's ~540. "
    "An epoch's training number is the average over its steps, taken while the model was still learning; "
    "its test number is the model at the epoch's end: that is why the training curve lies above the test one "
    "early on."
)

TRAINING_EPOCH_HELP = (
    "The weights at a few epochs were kept while training. Pick one: the map, the samples and the morph below "
    "are that epoch's model."
)

NO_RECORD_IN_SESSION = (
    "{name} lives in your session only, so this view has its loss curves (above, when the file has them) but "
    "no epoch slider, which needs the weights kept at several epochs in a file on the server. The shipped "
    "models have it: pick one in the sidebar to step through how a model learns."
)

NO_TRAINING_RECORD = (
    "{name} was trained before checkpoints kept a record of their training (the panel's reconstructions and "
    "the weights at snapshot epochs). Retrain it with `python -m vae train` to see how it learns."
)


def training_panel_help(vae: bool) -> str:
    code = "its mean μ" if vae else "its code"
    return (
        "The top row is the original; each row below is the model's reconstruction (the digit encoded to "
        f"{code} and decoded) after that epoch: every epoch up to 10, then the epochs whose weights were kept."
    )


NO_TRAINING_DATA = (
    f"Training needs MNIST's 60,000 training digits, and they are not on this server yet. Whoever runs it can "
    f"fetch them once with `{FETCH_COMMAND}` in the app's folder (scripts/start.sh does it), then reload."
)

LET_GO = (
    "To make room, this session let go of its oldest model: {names}. A session keeps at most {most} models "
    "of its own; download one to keep it."
)

SNAPSHOTS_LEFT_OUT = (
    "This file holds {count} more snapshot epochs than were mapped: a file gets its own map and at most {most} "
    "snapshot maps, spread from the first epoch to the last (each is a t-SNE on this shared server)."
)
