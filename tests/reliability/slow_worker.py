"""`manage.py run_worker` whose snapshot builds sleep at every record, so a test can kill one mid-build.

    python -m tests.reliability.slow_worker run_worker --no-reload …

The delay is `SLOW_BUILD_STEP_SECONDS`; everything else is the real worker and the real build.
"""

import os
import sys
import time

import django
from django.core.management import execute_from_command_line


def main() -> None:
    django.setup()
    from annotator.datasets import build

    delay = float(os.environ["SLOW_BUILD_STEP_SECONDS"])
    step = build.Progress.step

    def slow_step(self, n=1):
        time.sleep(delay)
        step(self, n)

    build.Progress.step = slow_step
    execute_from_command_line(["manage.py", *sys.argv[1:]])


if __name__ == "__main__":
    main()
