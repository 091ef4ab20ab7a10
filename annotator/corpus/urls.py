from django.urls import path

from . import views

urlpatterns = [
    path("p/<int:project_id>/import/", views.article_import, name="article_import"),
]
