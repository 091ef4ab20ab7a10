from django.urls import path

from . import views

urlpatterns = [
    path("p/<int:project_id>/agreement/", views.project_agreement, name="project_agreement"),
    path("p/<int:project_id>/agreement.csv", views.project_agreement_csv, name="project_agreement_csv"),
]
