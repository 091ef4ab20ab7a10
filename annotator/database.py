"""Outliving a database outage: what counts as one, and waiting for the database to come back.

A PostgreSQL restart (or a network cut) ends every open connection and refuses new ones for a
while. Django reports both as `OperationalError` (or `InterfaceError` on a connection that is
already closed); so do a few passing conditions worth one more try (a deadlock, a cancelled
statement). Programming errors, integrity and data errors are none of these: they are never
retried.
"""

import logging
import time
from collections.abc import Callable
from contextlib import suppress

from django.db import DEFAULT_DB_ALIAS, DatabaseError, InterfaceError, OperationalError, connections

logger = logging.getLogger(__name__)

# Errors after which the same work can succeed once the database answers again.
UNAVAILABLE = (OperationalError, InterfaceError)

RETRY_SECONDS = 1.0


def wait_for_database(
    using: str = DEFAULT_DB_ALIAS, *, keep_waiting: Callable[[], bool] = lambda: True, retry: float = RETRY_SECONDS
) -> bool:
    """Drop the connection and open a new one, trying every `retry` seconds until the database answers.

    Returns False if `keep_waiting()` turned false first (the worker was asked to stop).
    """
    connection = connections[using]
    started = time.monotonic()
    said = False
    while keep_waiting():
        with suppress(DatabaseError):
            connection.close()  # a broken connection is never reused
        try:
            connection.ensure_connection()
            if connection.is_usable():
                if said:
                    logger.warning("The database answers again, after %.1f s.", time.monotonic() - started)
                return True
        except DatabaseError as error:
            if not said:
                logger.warning("The database does not answer (%s); trying again every %g s.", error, retry)
                said = True
        time.sleep(retry)
    return False
