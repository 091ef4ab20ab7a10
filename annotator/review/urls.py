from django.urls import path

from . import views

review = "p/<int:project_id>/review/<int:article_id>/"

urlpatterns = [
    path("p/<int:project_id>/review/", views.review_queue, name="review_queue"),
    path(review, views.review_article, name="review_article"),
    path(review + "text/", views.review_text_window, name="review_text_window"),
    path(review + "groups/", views.review_groups_more, name="review_groups_more"),
    path(review + "gold/", views.review_gold_more, name="review_gold_more"),
    path(review + "spans/", views.review_span_add, name="review_span_add"),
    path(review + "spans/<int:span_id>/accept/", views.review_accept, name="review_accept"),
    path(review + "spans/<int:span_id>/reject/", views.review_reject, name="review_reject"),
    path(review + "gold/<int:span_id>/update/", views.review_span_update, name="review_span_update"),
    path(review + "gold/<int:span_id>/delete/", views.review_span_delete, name="review_span_delete"),
    path(review + "relations/", views.review_relation_add, name="review_relation_add"),
    path(review + "relations/<int:relation_id>/accept/", views.review_relation_accept, name="review_relation_accept"),
    path(review + "relations/<int:relation_id>/reject/", views.review_relation_reject, name="review_relation_reject"),
    path(review + "gold-relations/<int:relation_id>/delete/", views.review_relation_delete,
         name="review_relation_delete"),
    path(review + "labels/", views.review_labels, name="review_labels"),
    path(review + "done/", views.review_done, name="review_done"),
    path("p/<int:project_id>/a/<int:article_id>/history/", views.article_history, name="article_history"),
]
