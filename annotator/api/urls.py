from django.urls import path

from . import views
from .api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("account/tokens/", views.token_list, name="api_tokens"),
    path("account/tokens/<int:token_id>/revoke", views.token_revoke, name="api_token_revoke"),
]
