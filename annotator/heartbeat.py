"""A long task's sign of life: its row's heartbeat, stamped from a thread while the task runs.

Snapshot builds and import jobs keep a transaction or a slow step open for a long time, yet
recovery must tell a task whose worker was killed from a slow one, and a page must see progress.
So a thread of the task's own stamps the row on its own connection every few seconds, and stops
the task (`check`) once recovery has given the row up.
"""

import logging
import threading
from collections.abc import Callable

from django.db import Error, connection

logger = logging.getLogger(__name__)


class Abandoned(Exception):
    """The task's row is no longer running: recovery gave it up while the task was still at it."""


class Heartbeat:
    """Calls `beat` now and every `seconds` from a thread until the block ends.

    `beat` stamps the row and raises `Abandoned` when the row is no longer running; the task
    learns it at its next `check()`. Inside a transaction already (the tests' atomic blocks) there
    is no thread: it could not see the uncommitted row, and on SQLite it would wait for the
    transaction's lock; `threaded` tells the task to stamp now and then itself.
    """

    def __init__(self, beat: Callable[[], None], *, seconds: float, name: str):
        self.beat, self.seconds, self.name = beat, seconds, name
        self.lost = threading.Event()
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None

    @property
    def threaded(self) -> bool:
        return self.thread is not None

    def __enter__(self):
        self.beat()
        if not connection.in_atomic_block:
            self.thread = threading.Thread(target=self._run, name=f"heartbeat-{self.name}", daemon=True)
            self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stop.set()
        if self.thread is not None:
            self.thread.join()

    def check(self) -> None:
        if self.lost.is_set():
            raise Abandoned(f"{self.name} is no longer running.")

    def _run(self) -> None:
        try:
            while not self.stop.wait(self.seconds):
                try:
                    self.beat()
                except Abandoned:
                    self.lost.set()
                    return
                except Error:
                    # The database is away for a moment: the next beat tries again, on a new connection.
                    logger.warning("Could not stamp the heartbeat of %s", self.name, exc_info=True)
                    connection.close()
        finally:
            connection.close()  # this thread's own connection
