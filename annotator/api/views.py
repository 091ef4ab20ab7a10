"""The API tokens page: a person makes, sees and revokes their own tokens."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views import defaults
from django.views.decorators.http import require_http_methods, require_POST

from . import services


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for: “crawler”, “nightly training”.")
    read_only = forms.BooleanField(required=False, label="Read only", help_text="Every write with it is refused.")


@require_http_methods(["GET", "POST"])
@login_required
def token_list(request):
    """A new token is shown once, on the page that made it; only its hash is kept."""
    form, secret = TokenForm(), None
    if request.method == "POST":
        form = TokenForm(request.POST)
        if form.is_valid():
            try:
                _, secret = services.token_create(
                    user=request.user, name=form.cleaned_data["name"], read_only=form.cleaned_data["read_only"]
                )
                form = TokenForm()
            except ValidationError as error:
                form.add_error("name", error)
    context = {"form": form, "secret": secret, "tokens": request.user.api_tokens.all()}
    response = render(request, "api/tokens.html", context, status=400 if form.errors else 200)
    # The page that shows a token must not be kept by a cache or the browser's history.
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@login_required
def token_revoke(request, token_id):
    if services.token_revoke(user=request.user, token_id=token_id):
        messages.success(request, "The token was revoked: requests with it are now refused.")
    else:
        messages.error(request, "No such token of yours: it may have been revoked already.")
    return redirect("api_tokens")


def not_found(request, exception):
    """The site's 404: problem-details JSON under /api/ (a URL no route matches), the page elsewhere."""
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"type": "about:blank", "title": "Not Found", "status": 404, "detail": "No API route has this URL.",
             "errors": []},
            status=404,
        )
        response["Content-Type"] = "application/problem+json"
        return response
    return defaults.page_not_found(request, exception)
