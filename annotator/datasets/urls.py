from django.urls import path

from . import views

urlpatterns = [
    path("p/<int:project_id>/export.jsonl", views.export_jsonl, name="export_jsonl"),
    path("p/<int:project_id>/datasets/", views.dataset_list, name="dataset_list"),
    path("p/<int:project_id>/datasets/<uuid:snapshot_id>/", views.snapshot_detail, name="snapshot_detail"),
    path("p/<int:project_id>/datasets/<uuid:snapshot_id>/delete", views.snapshot_delete, name="snapshot_delete"),
    path("p/<int:project_id>/datasets/<uuid:snapshot_id>/<path:name>", views.snapshot_file, name="snapshot_file"),
]
