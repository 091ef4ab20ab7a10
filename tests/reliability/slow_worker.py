"""`manage.py run_worker` whose snapshot builds sleep at every record, and whose import jobs (and
model trainings) sleep at every report of progress, so a test can kill one midway.

    python -m tests.reliability.slow_worker run_worker --no-reload …

The delays are `SLOW_BUILD_STEP_SECONDS` and `SLOW_IMPORT_STEP_SECONDS`; everything else is the
real worker, the real build and the real import.
"""

import os
import sys
import time

import django
from django.core.management import execute_from_command_line


def main() -> None:
    django.setup()
    from annotator.heartbeat import TaskProgress
    from annotator.datasets import build

    delay = float(os.environ.get("SLOW_BUILD_STEP_SECONDS", "0"))
    step = build.Progress.step

    def slow_step(self, n=1):
        time.sleep(delay)
        step(self, n)

    build.Progress.step = slow_step

    import_delay = float(os.environ.get("SLOW_IMPORT_STEP_SECONDS", "0"))
    progress = TaskProgress.__call__

    def slow_progress(self, done, total):
        time.sleep(import_delay)
        progress(self, done, total)

    TaskProgress.__call__ = slow_progress
    execute_from_command_line(["manage.py", *sys.argv[1:]])


if __name__ == "__main__":
    main()
