from django.apps import AppConfig


class DatasetsConfig(AppConfig):
    name = "annotator.datasets"
    label = "datasets"
