"""How the model picker words a checkpoint: its one-line description and its "about" table."""

from __future__ import annotations

from typing import Any

from vae.catalog import CheckpointSummary


def describe(summary: CheckpointSummary) -> str:
    """One line for the picker: kind, d, β, epochs and test loss."""
    parts = [f"{summary.kind.upper()} · d={summary.latent_dim}"]
    if summary.kind == "vae" and summary.beta is not None:
        parts.append(f"β={summary.beta:g}")
    if summary.epochs is not None:
        parts.append(f"{summary.epochs} epoch{'s' if summary.epochs != 1 else ''}")
    if summary.test_loss is not None:
        parts.append(f"test {summary.test_loss_label} {summary.test_loss:.1f} nats")
    return " · ".join(parts)


def model_facts(meta: dict[str, Any]) -> list[tuple[str, str]]:
    """The "about this model" table: architecture, training recipe and test numbers (nats per image)."""
    model = meta.get("model") or {}
    train = meta.get("train") or {}
    evaluation = meta.get("evaluation") or {}
    test = (meta.get("metrics") or {}).get("test") or {}
    kind = model.get("kind", "vae")
    facts = [
        ("model", "variational autoencoder" if kind == "vae" else "plain autoencoder (no KL, no sampling)"),
        ("layers", f"{model.get('input_dim', 784)} → {model.get('hidden_dim', '?')} → {model.get('latent_dim', '?')}"),
    ]
    if kind == "vae" and "beta" in train:
        facts.append(("β (weight of the KL)", f"{float(train['beta']):g}"))
    if "epoch" in meta or "epochs" in train:
        facts.append(("epochs", str(meta.get("epoch", train.get("epochs")))))
    if "batch_size" in train and "lr" in train:
        schedule = train.get("lr_schedule", "constant")
        facts.append(("batch · learning rate", f"{train['batch_size']} · {float(train['lr']):g} ({schedule})"))
    source = evaluation or test
    if "recon" in source:
        facts.append(("test reconstruction", f"{float(source['recon']):.1f} nats"))
    if kind == "vae" and "kl" in source:
        facts.append(("test KL", f"{float(source['kl']):.1f} nats"))
    if "neg_elbo" in evaluation:
        facts.append(("test −ELBO", f"{float(evaluation['neg_elbo']):.1f} nats"))
    if "neg_iwae_k" in evaluation:
        facts.append(
            (f"−log p(x) bound (IWAE, k={evaluation.get('k')})", f"{float(evaluation['neg_iwae_k']):.1f} nats")
        )
    return facts
