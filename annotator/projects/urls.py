from django.urls import path

from . import views

project = "p/<int:project_id>/"

urlpatterns = [
    path("", views.home, name="home"),
    path(project, views.project_detail, name="project_detail"),
    path(project + "members/", views.project_members, name="project_members"),
    path(project + "members/add/", views.member_add, name="member_add"),
    path(project + "members/<int:membership_id>/role/", views.member_change_role, name="member_change_role"),
    path(project + "members/<int:membership_id>/remove/", views.member_remove, name="member_remove"),
    path(project + "settings/", views.project_settings, name="project_settings"),
    path(project + "progress/", views.project_progress, name="project_progress"),
]
