"""What a digit reads as: a vote of its nearest test codes (numbers only; the app words them)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from vae.latent import nearest

VOTERS = 10


@dataclass(frozen=True)
class Verdict:
    label: int  # the digit with the most votes (ties: the one with the nearest voter)
    votes: int  # how many of the k nearest test codes are that digit
    k: int
    runner_up: int | None  # the second digit when it is close (at least half the winner's votes), else None
    runner_up_votes: int
    neighbours: np.ndarray  # test rows, nearest first
    distances: np.ndarray
    counts: np.ndarray  # votes per digit 0–9

    @property
    def close(self) -> bool:
        return self.runner_up is not None


def read_digit(
    mu: np.ndarray | torch.Tensor, bank_mu: np.ndarray | torch.Tensor, bank_labels: np.ndarray, k: int = VOTERS
) -> Verdict:
    """The label voted by the k test codes nearest to `mu` (one code, shape [d])."""
    bank = torch.as_tensor(np.asarray(bank_mu), dtype=torch.float32)
    query = torch.as_tensor(np.asarray(mu), dtype=torch.float32).reshape(1, -1)
    index, dist = nearest(query, bank, k)
    rows, distances = index[0].numpy(), dist[0].numpy()
    voters = np.asarray(bank_labels)[rows].astype(np.int64)
    counts = np.bincount(voters, minlength=10)
    # Ties go to the digit whose first voter is nearest: the rows are sorted by distance.
    first_seen = {int(label): position for position, label in reversed(list(enumerate(voters)))}
    order = sorted(first_seen, key=lambda label: (-counts[label], first_seen[label]))
    label, votes = order[0], int(counts[order[0]])
    second = order[1] if len(order) > 1 else None
    second_votes = int(counts[second]) if second is not None else 0
    close = second is not None and 2 * second_votes >= votes
    return Verdict(
        label=label,
        votes=votes,
        k=len(rows),
        runner_up=second if close else None,
        runner_up_votes=second_votes,
        neighbours=rows,
        distances=distances,
        counts=counts,
    )
