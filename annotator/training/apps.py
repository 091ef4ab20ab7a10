from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "annotator.training"
    verbose_name = "Model training"
