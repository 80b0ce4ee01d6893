"""The map job: the quick t-SNE of a checkpoint's test codes, written beside it as its atlas.

Its progress is the share done (a float); its result is the atlas's path, published as soon as the map
is written so that the views show it, before each test digit's score is added for the digit view.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from functools import partial
from pathlib import Path

from explorer.jobs.files import is_upload_folder
from explorer.jobs.queue import Job, JobState
from vae.atlas import add_scores, atlas_path, build_atlas
from vae.quick_map import quick_map_2d

LOG = logging.getLogger(__name__)
# Snapshot maps made for one checkpoint besides its own: each is a t-SNE of seconds, and the map queue is
# the whole server's, so a file holding a hundred snapshots gets these ten, the others said to be left out.
MAX_SNAPSHOT_MAPS = 10


def build_map(job: Job, threads: Callable[[], int]) -> str:
    """A trained checkpoint's map (a 2-D model's codes are their own map), then its scores. An uploaded
    run file may have a snapshot map per kept epoch too: the share runs once over all of them."""
    checkpoint: Path = job.payload
    done, count = 0, 1

    def on_map(index: int, maps: int) -> None:
        nonlocal done, count
        done, count = index, maps

    def progress(share: float) -> None:
        job.publish((done + share) / count)
        job.raise_if_cancelled()

    mapper = partial(quick_map_2d, progress=progress, threads=threads())
    build_atlas(
        checkpoint, seed=0, log=LOG.info, mapper=mapper, scores=False, on_map=on_map, max_snapshots=MAX_SNAPSHOT_MAPS
    )
    job.publish(1.0, result=atlas_path(checkpoint))
    job.raise_if_cancelled()
    add_scores(checkpoint, log=LOG.info)
    return "Its map is ready."


def drop_unused_upload(job: Job) -> None:
    """The map queue's on_end: an upload's files that no session will adopt (the map was cancelled, failed,
    or dropped while waiting) are deleted at once; adopted ones go when their session has them."""
    checkpoint: Path = job.payload
    if job.state is not JobState.DONE and is_upload_folder(checkpoint.parent):
        shutil.rmtree(checkpoint.parent, ignore_errors=True)
