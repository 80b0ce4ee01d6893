"""How the model picker words a checkpoint: its one-line description and its "about" table."""

from __future__ import annotations

from explorer.words import count
from vae.catalog import CheckpointSummary
from vae.kinds import kind_of
from vae.meta import CheckpointMeta


def recipe(summary: CheckpointSummary | None) -> str:
    """ "β = 4 · 3 epochs": what a model's numbers depend on beside its kind and d ("" when its file does
    not say). Two models of one kind and d differ by these."""
    if summary is None:
        return ""
    parts = [f"β = {summary.beta:g}"] if kind_of(summary).has_posterior and summary.beta is not None else []
    if summary.epochs is not None:
        parts.append(count(summary.epochs, "epoch"))
    return " · ".join(parts)


def describe(summary: CheckpointSummary) -> str:
    """One line for the picker: kind, d, β, epochs and test loss."""
    parts = [f"{summary.kind.upper()} · d={summary.latent_dim}"]
    if made := recipe(summary):
        parts.append(made)
    if summary.test_loss is not None:
        parts.append(f"test {summary.test_loss_label} {summary.test_loss:.1f} nats")
    return " · ".join(parts)


def model_facts(meta: CheckpointMeta) -> list[tuple[str, str]]:
    """The "about this model" table: architecture, training recipe and test numbers (nats per image)."""
    model, train, evaluation = meta.model, meta.train, meta.evaluation
    kind = kind_of(meta)
    has_posterior = kind.has_posterior
    facts = [
        ("model", kind.description),
        ("layers", f"{model.input_dim} → {model.hidden_dim} → {model.latent_dim}"),
    ]
    if has_posterior and train is not None:
        facts.append(("β (weight of the KL)", f"{train.beta:g}"))
    epochs = meta.epoch if meta.epoch is not None else (train.epochs if train is not None else None)
    if epochs is not None:
        facts.append(("epochs", str(epochs)))
    if train is not None:
        facts.append(("batch · learning rate", f"{train.batch_size} · {train.lr:g} ({train.lr_schedule})"))
    source = evaluation or (meta.last_epoch.test if meta.last_epoch is not None else None)
    if source is not None:
        facts.append(("test reconstruction", f"{source.recon:.1f} nats"))
        if has_posterior:
            facts.append(("test KL", f"{source.kl:.1f} nats"))
    if evaluation is not None and evaluation.neg_elbo is not None:
        facts.append(("test −ELBO", f"{evaluation.neg_elbo:.1f} nats"))
    elif has_posterior and source is not None:  # a trained run's last epoch: the picker's number, whatever its β
        facts.append(("test −ELBO", f"{source.recon + source.kl:.1f} nats"))
    if evaluation is not None and evaluation.neg_iwae_k is not None:
        facts.append((f"−log p(x) bound (IWAE, k={evaluation.k})", f"{evaluation.neg_iwae_k:.1f} nats"))
    return facts
