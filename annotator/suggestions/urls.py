from django.urls import path

from . import views

article = "p/<int:project_id>/a/<int:article_id>/"

urlpatterns = [
    path(article + "suggestions/<int:suggestion_id>/accept/", views.suggestion_accept, name="suggestion_accept"),
    path(article + "suggestions/<int:suggestion_id>/reject/", views.suggestion_reject, name="suggestion_reject"),
    path(article + "suggestions/accept-all/", views.suggestions_accept_all, name="suggestions_accept_all"),
]
