"""`manage.py run_worker [--interval SECONDS] [--no-listen] [db_worker's other options]`

The task worker to run in production (see deploy/annotator-worker.service): django-tasks-db's
`db_worker` that fails the snapshots a stopped worker left behind first, outlives a database
restart, and on PostgreSQL starts a newly enqueued task at once (`annotator.datasets.worker`).
"""

import os

from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands import db_worker

from annotator.datasets.worker import Worker


class Command(db_worker.Command):
    help = (
        "Run the task worker: recover stopped snapshots, then run tasks; waits out database "
        "outages, and wakes on PostgreSQL NOTIFY when a task is enqueued."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--no-listen", dest="listen", action="store_false",
            help="on PostgreSQL, poll every --interval only instead of also waking on NOTIFY",
        )

    def handle(self, *, verbosity, queue_name, exclude_queues, batch, reload, listen, **options):
        # The same checks and options as db_worker's own handle, with this module's Worker.
        self.configure_logging(verbosity)
        if reload and batch:
            reload = False
        queue_names = queue_name.split(",")
        excluded = exclude_queues.split(",") if exclude_queues else []
        if excluded and "*" not in queue_names:
            raise db_worker.CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = Worker(
            queue_names=queue_names, excluded_queue_names=excluded, batch=batch, listen=listen,
            interval=options["interval"], backend_name=options["backend_name"],
            startup_delay=options["startup_delay"], max_tasks=options["max_tasks"], worker_id=options["worker_id"],
        )
        if reload:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()  # only in the child that runs the tasks
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()
