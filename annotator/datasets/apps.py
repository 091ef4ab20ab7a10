from django.apps import AppConfig


class DatasetsConfig(AppConfig):
    name = "annotator.datasets"
    label = "datasets"

    def ready(self):
        from . import worker  # noqa: F401  (connects wake_workers to task_enqueued)
