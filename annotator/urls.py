from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("annotator.projects.urls")),
    path("", include("annotator.corpus.urls")),
    path("", include("annotator.labelling.urls")),
    path("", include("annotator.suggestions.urls")),
    path("", include("annotator.training.urls")),
    path("", include("annotator.review.urls")),
    path("", include("annotator.datasets.urls")),
    path("", include("annotator.agreement.urls")),
    path("", include("annotator.api.urls")),
]

handler400 = "annotator.api.views.bad_request"
handler404 = "annotator.api.views.not_found"
