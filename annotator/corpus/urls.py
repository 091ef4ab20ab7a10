from django.urls import path

from . import views

urlpatterns = [
    path("p/<int:project_id>/import/", views.article_import, name="article_import"),
    path("p/<int:project_id>/import/labelled/", views.labelled_import, name="labelled_import"),
    path("p/<int:project_id>/import/jobs/<uuid:job_id>/", views.import_job_detail, name="import_job_detail"),
]
