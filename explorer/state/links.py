"""Links that bring a view back: the session's first address sets the state, every run writes the state
into the address (st.query_params), and a "Copy link" button hands it on. Parsing: explorer/state/url.py."""

from __future__ import annotations

import streamlit as st

from explorer.context import Context
from explorer.state.epochs import chosen_epoch, epoch_key, recorded_run
from explorer.state.session import (
    ACTIVE_MODEL,
    LESSON_LINK,
    MODEL_CHOICE,
    PLANE_PIN,
    code_key,
    current_code,
    morph_pair,
    ss,
)
from explorer.state.url import DEFAULT_SAMPLES, LinkState, lesson_link_params, link_params, parse_link
from explorer.words.app import RESTORED_NOTE, SESSION_MODEL_LINK
from explorer.words.plain import plain
from vae.catalog import CheckpointListing, list_checkpoints
from vae.paths import checkpoint_dir

READ = "link_read"  # this session has read the address it was opened with
PENDING_CODE = "link_code"  # a code from the address, set once the model it belongs to is known
PENDING_EPOCH = "link_epoch"  # likewise the Training view's epoch: the model's record says if it was kept
PENDING_RESET = "link_reset"  # a lesson step: the sliders' code and the epoch go back to their defaults first
NOTES = "link_notes"  # what the address held that did not fit
RESTORED = "link_restored"  # what the address brought back, said once (a copied link, or a server restart)
RESTORED_PARTS = {
    "model": "model",
    "code": "code",
    "a": "morph pair",
    "b": "morph pair",
    "k": "frames",
    "seed": "seed",
    "count": "number of samples",
    "temperature": "temperature",
    "pick": "map pick",
    "plane": "pinned point",
    "epoch": "training epoch",
}
STEM = ".safetensors"

_COPY = st.components.v2.component(
    "vae_copy_link",
    html='<button class="copy" type="button">Copy link to this view</button><span class="done"></span>',
    css="""
.copy { font: inherit; font-size: 0.875rem; padding: 0.3rem 0.75rem; cursor: pointer; border-radius: 0.5rem;
        border: 1px solid var(--st-border-color, #ccc); background: var(--st-background-color, #fff);
        color: var(--st-text-color); }
.copy:hover { border-color: var(--st-primary-color); color: var(--st-primary-color); }
.done { font-size: 0.8rem; margin-left: 0.5rem; opacity: 0.7; }
""",
    js="""
export default function ({ parentElement }) {
  const button = parentElement.querySelector(".copy");
  const done = parentElement.querySelector(".done");
  button.onclick = async () => {
    const link = window.location.href;
    try {
      await navigator.clipboard.writeText(link);
      done.textContent = "copied";
    } catch (error) {  // no clipboard (e.g. plain http on another machine): show it to copy by hand
      window.prompt("Copy this link:", link);
      done.textContent = "";
    }
    button.dataset.link = link;
  };
}
""",
)


def model_names(listing: CheckpointListing) -> dict[str, str]:
    """A shipped checkpoint's name in links (file name without .safetensors) → its path."""
    return {c.name.removesuffix(STEM): str(c.path) for c in listing.checkpoints}


def read_address() -> None:
    """Once per session, before the model picker: the state the address carries."""
    if ss.get(READ):
        return
    ss[READ] = True
    names = model_names(list_checkpoints(checkpoint_dir()))
    link = parse_link(st.query_params.to_dict(), list(names))
    if link.model is not None:
        ss[MODEL_CHOICE] = names[link.model]
    for key, value in (
        ("morph_a", link.a),
        ("morph_b", link.b),
        ("morph_frames", link.k),
        ("prior_seed", link.seed),
        ("prior_count", link.count),
        ("prior_temperature", link.temperature),
        ("map_pick", link.pick),
        (PLANE_PIN, None if link.plane is None else list(link.plane)),
    ):
        if value is not None:
            ss[key] = value
    if link.join is not None:
        ss["class_join_code"] = link.join  # the Class view's join form starts with it
    if link.code is not None:
        ss[PENDING_CODE] = list(link.code)
    if link.epoch is not None:
        ss[PENDING_EPOCH] = link.epoch
    if link.notes:
        ss[NOTES] = list(link.notes)
    restored = dict.fromkeys(RESTORED_PARTS[name] for name in RESTORED_PARTS if getattr(link, name) is not None)
    if restored:
        ss[RESTORED] = list(restored)


def _dropped(part: str, note: str) -> None:
    """A part of the address that did not fit the model: a note, and no "restored" claim for it."""
    ss.setdefault(NOTES, []).append(note)
    if restored := [name for name in ss.get(RESTORED, []) if name != part]:
        ss[RESTORED] = restored
    else:
        ss.pop(RESTORED, None)


def apply_address_code(ctx: Context) -> None:
    """The address's code and epoch, for the model now known (a code of another size, or an epoch the
    model's record did not keep, is dropped with a note)."""
    if ss.pop(PENDING_RESET, False):
        ss.pop(code_key(ctx.key), None)
        ss.pop(epoch_key(ctx), None)
    code = ss.pop(PENDING_CODE, None)
    if code is not None:
        if len(code) == ctx.model.latent_dim:
            ss[code_key(ctx.key)] = code
        else:
            _dropped("code", f"z has {len(code)} numbers, {ctx.name} needs {ctx.model.latent_dim}")
    epoch = ss.pop(PENDING_EPOCH, None)
    if epoch is not None:
        run = recorded_run(ctx)
        if run is not None and epoch in run.record.weight_epochs:
            ss[epoch_key(ctx)] = epoch
        else:
            kept = ", ".join(map(str, run.record.weight_epochs)) if run is not None else "none"
            _dropped("training epoch", f"epoch={epoch} is not an epoch {ctx.name} kept ({kept})")


def show_address_notes() -> None:
    # A new session opened on an address that carries state: a copied link, or a page whose server
    # restarted (or whose replica stopped) and reconnected to a new process. Say so once, in one line.
    if restored := ss.pop(RESTORED, None):
        st.info(RESTORED_NOTE.format(parts=", ".join(restored)), icon=":material/link:")
    if notes := ss.pop(NOTES, None):
        said = "; ".join(plain(note) for note in notes[:8])  # a link's values: text, never Markdown
        st.warning(f"Part of this link did not fit and was left at its default: {said}.")


def link_state(ctx: Context) -> tuple[LinkState, LinkState]:
    """(what the session shows now, the defaults a link can leave out)."""
    names = {path: name for name, path in model_names(ctx.listing).items()}
    active = ss.get(ACTIVE_MODEL)
    a, b = morph_pair()
    now = LinkState(
        model=names.get(active),
        code=tuple(current_code(ctx.key, ctx.model.latent_dim)),
        a=a,
        b=b,
        k=ss.get("morph_frames"),
        seed=ss.get("prior_seed"),
        count=ss.get("prior_count"),
        temperature=ss.get("prior_temperature"),
        pick=ss.get("map_pick"),
        plane=None if ss.get(PLANE_PIN) is None else tuple(ss[PLANE_PIN]),
        epoch=chosen_epoch(ctx),
    )
    first = next(iter(names.values()), None)
    defaults = LinkState(
        model=first,
        code=(0.0,) * ctx.model.latent_dim,
        a=0,
        b=1,
        k=10,
        seed=0,
        count=DEFAULT_SAMPLES,
        temperature=1.0,
        pick=None,
        epoch=None,
    )
    return now, defaults


def write_address(ctx: Context) -> None:
    """The address says what the page shows (written only when it changed); also from fragments."""
    params = link_params(*link_state(ctx))
    if (lesson := ss.get(LESSON_LINK)) is not None:
        params |= lesson_link_params(lesson)
    if params != st.query_params.to_dict():
        st.query_params.from_dict(params)


def copy_link_button(ctx: Context) -> None:
    with st.sidebar:
        _COPY(key="copy_link", height=40)
        names = model_names(ctx.listing)
        if ss.get(ACTIVE_MODEL) not in names.values():  # an upload or a model trained here
            fallback = f"{next(iter(names))}{STEM}" if names else "the app without a model"
            st.caption(SESSION_MODEL_LINK.format(model=plain(ctx.name), fallback=plain(fallback)))
