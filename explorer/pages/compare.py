"""Two to four models side by side, shipped or trained here: the same prior samples (same seed), the same
morph, the same digit's reconstruction, their test-set terms and how many coordinates each uses."""

from __future__ import annotations

import html

import streamlit as st

from explorer.context import Context
from explorer.service.resources import cached_test_set, model_at
from explorer.state.session import ss
from explorer.state.session_models import session_models
from explorer.state.url import LAST_TEST_ROW, MAX_PRIOR_SEED
from explorer.ui.pictures import show_pixels
from explorer.ui.widgets import ranged_int_input
from explorer.words.app import SEEDS, TEST_ROWS
from explorer.words.catalog import recipe
from explorer.words.look_for import LookFor
from explorer.words.plain import plain
from vae import LatentModel
from vae.comparison import ModelCard, model_card
from vae.images import as_uint8, enlarge, png_bytes, tile
from vae.kinds import kind_of

LOOK_FOR = LookFor("Same seed, same digits: a small β reconstructs sharply but samples badly, a large β the reverse.")

CARDS = "compare_cards"  # (model key, seed, digit, pair) → ModelCard, this session's
CHOSEN = "compare_models"  # the multiselect's key
OFFERED = "compare_offered"  # the model keys this session has been offered, to spot newly trained ones
MAX_MODELS = 4
ORIGINAL_SCALE = 3  # the three test digits above the cards, 84 px each


def models_on_offer(ctx: Context) -> dict[str, tuple[str, LatentModel | None]]:
    """key → (label, the model when already in memory): the shipped checkpoints, then this session's."""
    offer: dict[str, tuple[str, LatentModel | None]] = {
        str(c.path): (c.path.name, None) for c in ctx.listing.checkpoints
    }
    offer |= {key: (f"{entry.name} (yours)", entry.model) for key, entry in session_models().items()}
    return offer


def with_new_models(offer: dict[str, tuple[str, LatentModel | None]]) -> list[str]:
    """The selection to show: the default the first time (this session's models, newest first, then the
    shipped ones, three in all), later the user's choice with any model trained or uploaded since added to it (the
    oldest choices make room: at most MAX_MODELS)."""
    seen: set[str] = ss.setdefault(OFFERED, set())
    yours = [key for key in offer if key in session_models()]
    new = [key for key in yours if key not in seen]
    seen.update(offer)
    current = ss.get(CHOSEN)
    if current is None:
        shipped = [key for key in offer if key not in session_models()]
        return (yours[::-1][:2] + shipped)[:3]
    chosen = [key for key in current if key in offer]
    return (chosen + new)[-MAX_MODELS:] if new else chosen


def card(key: str, label: str, model: LatentModel | None, seed: int, digit: int, pair: tuple[int, int]) -> ModelCard:
    cards = ss.setdefault(CARDS, {})
    cache_key = (key, seed, digit, pair)
    if cache_key not in cards:
        model = model if model is not None else model_at(key)
        cards[cache_key] = model_card(label, model, cached_test_set().images, digit, pair, seed=seed)
    return cards[cache_key]


def numbers_table(cards: list[ModelCard]) -> str:
    """The models' test-set terms in one table, one row per model: compared down a column at a glance."""
    # Short headers: the table must fit a phone's width (the caption above says what "used" counts).
    rows = ["| model | recon | KL | −ELBO | used |", "|---|---:|---:|---:|---:|"]
    for card in cards:
        kind = kind_of(card).label
        kl = f"{card.kl:.1f}" if card.kl is not None else "—"
        elbo = f"{card.neg_elbo:.1f}" if card.neg_elbo is not None else "—"
        name = plain(
            card.name.replace(".safetensors", "")
        )  # its | escaped too: a table cell; the row below has the file
        rows.append(
            f"| **{name}** {kind}, d = {card.latent_dim} | {card.recon:.1f} | {kl} | {elbo} "
            f"| {card.active}/{card.latent_dim} |"
        )
    return "\n".join(rows)


def show(card: ModelCard) -> None:
    """One model's row: its name, then its samples, morph and reconstruction side by side (wrapped on a phone),
    in the same places as the other models' rows above and below it."""
    name = html.escape(card.name)
    made = recipe(card.summary)
    st.html(f'<div style="font-weight: 600">{name}</div>' + (f"<small>{html.escape(made)}</small>" if made else ""))
    with st.container(horizontal=True, gap="medium"):  # 224 + 112 px: side by side on a phone too
        show_pixels(
            st,
            png_bytes(tile(card.samples, columns=4), 2),
            caption="prior samples (same seed for every model)",
            width=4 * 56,
            alt=f"{len(card.samples)} digits that {card.name} decodes from random codes of the prior (the same seed "
            "for every model)",
        )
        show_pixels(
            st,
            enlarge(card.reconstruction, 4),
            caption="the same digit, reconstructed",
            width=112,
            alt=f"the chosen test digit as {card.name} reconstructs it",
        )
    show_pixels(  # on a line of its own, at its own width or the column's, the smaller (in the row above it was cut)
        st,
        png_bytes(tile(card.morph, columns=len(card.morph)), 2),
        caption="the same morph",
        alt=f"{card.name}'s morph between the two chosen test digits, in {len(card.morph)} frames",
    )


def render(ctx: Context) -> None:
    offer = models_on_offer(ctx)
    ss[CHOSEN] = with_new_models(offer)  # set before the widget: a model trained meanwhile joins it
    chosen = st.multiselect(
        "Models to compare (2 to 4)",
        list(offer),
        max_selections=MAX_MODELS,
        format_func=lambda key: offer[key][0],
        key=CHOSEN,
        persist_state="session",  # kept while the user visits other views
    )
    a, b, c, d = st.columns(4)
    seed = ranged_int_input(a, "Seed of the prior samples", 0, MAX_PRIOR_SEED, "compare_seed", 0, SEEDS)
    digit = ranged_int_input(b, "Test digit to reconstruct", 0, LAST_TEST_ROW, "compare_digit", 0, TEST_ROWS)
    start = ranged_int_input(c, "Morph from test digit", 0, LAST_TEST_ROW, "compare_from", 3, TEST_ROWS)
    end = ranged_int_input(d, "to test digit", 0, LAST_TEST_ROW, "compare_to", 2, TEST_ROWS)
    if len(chosen) < 2:
        st.info("Pick at least two models. Train a few in “Train a model” (β = 0.1, 1 and 4 show the trade-off).")
        return
    test = cached_test_set()
    originals = as_uint8(test.images[[digit, start, end]].numpy())
    # One column each at a fixed width: as a list in one st.image, a longer caption widened its image.
    captions = (f"digit #{digit}", f"from #{start}", f"to #{end}")  # one line each in a fifth of the width
    digits = [int(test.labels[row]) for row in (digit, start, end)]
    alts = (
        f"test digit #{digit}, a {digits[0]}, to reconstruct",
        f"test digit #{start}, a {digits[1]}, where the morph starts",
        f"test digit #{end}, a {digits[2]}, where the morph ends",
    )
    for column, image, caption, alt in zip(st.columns(5)[:3], originals, captions, alts, strict=True):
        show_pixels(column, enlarge(image, ORIGINAL_SCALE), caption=caption, width=28 * ORIGINAL_SCALE, alt=alt)
    st.caption(
        "−ELBO is reconstruction + KL whatever β the model was trained with, so models compare on one bound. "
        "A VAE uses a coordinate when its mean KL over the test set is 0.05 nats or more (the others are the "
        'sliders\' "unused" ones); an autoencoder, when its code varies across the test set (variance > 0.01, '
        'Burda et al.\'s active units); "used" counts them. An autoencoder has no KL and no prior, so its rows show —.'
    )
    cards = [card(key, *offer[key], seed, digit, (start, end)) for key in chosen]
    st.markdown(numbers_table(cards))
    for each in cards:  # one row per model: the same pictures in the same places, compared down the page
        show(each)
