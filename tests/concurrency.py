"""Races in tests: many callers released at the same moment, each in its own thread and connection."""

import threading

from django.db import connection


def all_at_once(work, items, *, timeout: float = 60) -> list[BaseException]:
    """`work(item)` for every item, each in a thread of its own, all released together by a barrier;
    each thread's database connection is closed after. Returns what the threads raised."""
    barrier = threading.Barrier(len(items))
    errors: list[BaseException] = []

    def run(item):
        try:
            barrier.wait(timeout=timeout)
            work(item)
        except BaseException as error:  # reported to the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread never finished"
    return errors
