from django.urls import path

from . import views

urlpatterns = [
    path("p/<int:project_id>/export.jsonl", views.export_jsonl, name="export_jsonl"),
]
