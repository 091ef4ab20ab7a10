from django.urls import path

from . import views

urlpatterns = [
    path("p/<int:project_id>/model/", views.model_page, name="model_page"),
    path("p/<int:project_id>/model/train/", views.model_train_start, name="model_train_start"),
    path("p/<int:project_id>/model/settings/", views.training_settings_update, name="training_settings_update"),
    path("p/<int:project_id>/model/<int:version_id>/", views.model_version_detail, name="model_version_detail"),
]
