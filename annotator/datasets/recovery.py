"""Snapshots whose worker stopped: failed visibly, their files removed (see `annotator.heartbeat`).

A queued or running snapshot whose build's heartbeat (`build.snapshot_heartbeat`) stopped has no
worker any more: it is marked failed with `STOPPED` as its error, which the datasets page shows,
and its partial files are removed. A worker runs this as it starts (`manage.py run_worker`,
`annotator.datasets.worker`).
"""

import logging
import shutil
from datetime import timedelta

from annotator.heartbeat import recover_lost

from .models import Snapshot, SnapshotFile, snapshot_root
from .services import snapshot_build

STOPPED = "the worker stopped while building this snapshot; make it again"

logger = logging.getLogger(__name__)


def snapshots_recover(
    *, stale_after: timedelta | None = None, wait: bool = False, poll: float = 1.0
) -> list[Snapshot]:
    """Fail every snapshot that lost its worker, remove its files, and return them."""
    recovered = recover_lost(
        Snapshot.objects.all(), snapshot_build, error=STOPPED, clean_up=_remove_files,
        stale_after=stale_after, wait=wait, poll=poll,
    )
    for snapshot in recovered:
        logger.warning("Snapshot %s of project %s failed: %s", snapshot.pk, snapshot.project_id, STOPPED)
    return recovered


def _remove_files(snapshot: Snapshot) -> None:
    SnapshotFile.objects.filter(snapshot=snapshot).delete()
    shutil.rmtree(snapshot_root() / snapshot.directory, ignore_errors=True)
