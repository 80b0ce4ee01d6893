"""The words of the "Your own digit" view: the verdict, how unusual the digit is, the posterior."""

from __future__ import annotations

from vae.scores import NoveltyCut
from vae.verdict import Verdict


def _digits(label: int, count: int) -> str:
    return f"a {label}" if count == 1 else f"{label}s"


def verdict_sentence(verdict: Verdict) -> str:
    """ "reads as a 3: 9 of its 10 nearest test digits are 3s", with the runner-up when it is close."""
    if verdict.votes == verdict.k:
        sentence = f"Reads as a **{verdict.label}**: all {verdict.k} of its nearest test digits are {verdict.label}s"
    else:
        verb = "is" if verdict.votes == 1 else "are"
        sentence = (
            f"Reads as a **{verdict.label}**: {verdict.votes} of its {verdict.k} nearest test digits "
            f"{verb} {_digits(verdict.label, verdict.votes)}"
        )
    if verdict.runner_up is not None:
        n = verdict.runner_up_votes
        sentence += (
            f", but {n} {'is' if n == 1 else 'are'} {_digits(verdict.runner_up, n)}: it could be a {verdict.runner_up}"
        )
    return sentence + "."


def unusual_sentence(percentile: float) -> str:
    """ "more unusual than 87 % of test digits" (by −ELBO), in the words a student reads first."""
    share = round(percentile)
    if share >= 100:
        return "More unusual than every test digit: the model finds it very hard to explain."
    if share <= 0:
        return "As ordinary as the most ordinary test digits."
    return f"More unusual than {share} % of test digits."


def score_caption(vae: bool, method_samples: int, recon: float, kl: float | None) -> str:
    """What the numbers are and what they are compared with (the same estimator on both sides)."""
    if not vae:
        return (
            f"An average test digit: {recon:.0f} nats of reconstruction, measured the same way. The percentile "
            "ranks your digit's reconstruction loss among the 10,000 test digits'."
        )
    return (
        f"An average test digit: {recon:.0f} nats of reconstruction + {kl:.0f} of KL. Both sides are measured "
        f"the same way: −ELBO, the reconstruction averaged over {method_samples} draws from the posterior and "
        "the exact KL. The percentile ranks your digit's −ELBO among the 10,000 test digits'."
    )


POSTERIOR_HELP = (
    "The encoder does not give one code but a bubble of them, N(μ, σ²). These are 16 codes drawn at random "
    "from that bubble, decoded: what the model considers the same digit. A tight bubble gives 16 near-copies; "
    "a loose one, variations (and for an ambiguous digit, sometimes another digit)."
)
NO_POSTERIOR = (
    "A plain autoencoder has no posterior: it maps a digit to one single code, so there is no bubble of "
    "codes to draw from. Pick a VAE in the sidebar to see one."
)
NO_SCORES = (
    "This model's map has no per-digit scores to rank your digit against; add them with "
    "`python -m vae atlas {checkpoint} --scores-only` (the map itself is kept)."
)
STAGES_CAPTION = (
    "How your image becomes an MNIST-style 28×28 digit: the paper's light is evened out, the ink found, "
    "stray marks left out (grey in “Digit kept”: ruled lines, specks, page edges, shadows), the strokes "
    "brought to MNIST's width, then scaled to 20×20 and centred by mass."
)
UPLOAD_KEPT = "Showing **{name}**, uploaded earlier. Upload another file to replace it."
ANIMATED = "This is an animation of {frames} frames: the first frame is read."
ANIMATED_LONG = "This is an animation of at least {frames} frames: the first frame is read."
CAMERA_HELP = "Hold a digit written on paper in front of the camera, fill most of the picture, and take the photo."


def not_a_digit(score: float, percentile: float, cut: NoveltyCut) -> str:
    """Said before any vote when the digit's −ELBO lies beyond (nearly) every test digit's."""
    share = "every one of the" if percentile >= 100 else f"{percentile:.2f} % of the"
    return (
        f"**The model does not see a digit in this.** Its −ELBO is {score:.0f} nats, more than {share} "
        f"{cut.total:,} test digits' (the cut is {cut.nats:.0f} nats, the {cut.percentile:g}th percentile, which "
        f"flags {cut.flagged} of the {cut.total:,} real test digits). The VAE's own likelihood says how well an "
        "image fits what it learned: this one fits badly, so the vote below is a guess among digits, not a reading."
    )
