from django.urls import path

from . import views

article = "p/<int:project_id>/a/<int:article_id>/"

urlpatterns = [
    path("p/<int:project_id>/next/", views.next_article, name="next_article"),
    path(article, views.label_article, name="label_article"),
    path(article + "text/", views.text_window, name="text_window"),
    path(article + "spans/", views.span_create, name="span_create"),
    path(article + "spans/more/", views.span_list_more, name="span_list_more"),
    path(article + "spans/<int:span_id>/", views.span_edit, name="span_edit"),
    path(article + "spans/<int:span_id>/update/", views.span_update, name="span_update"),
    path(article + "spans/<int:span_id>/delete/", views.span_delete, name="span_delete"),
    path(article + "relations/", views.relation_create, name="relation_create"),
    path(article + "relations/<int:relation_id>/delete/", views.relation_delete, name="relation_delete"),
    path(article + "labels/", views.document_labels, name="document_labels"),
    path(article + "submit/", views.article_submit, name="article_submit"),
    path(article + "skip/", views.article_skip, name="article_skip"),
]
