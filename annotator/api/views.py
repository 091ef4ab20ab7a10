"""The API tokens page: a person makes, sees and revokes their own tokens."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig, TooManyFilesSent, ValidationError
from django.http import HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.views import defaults
from django.views.decorators.csrf import requires_csrf_token
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


def _problem(status: int, title: str, detail: str) -> JsonResponse:
    response = JsonResponse({"type": "about:blank", "title": title, "status": status, "detail": detail, "errors": []}, status=status)
    response["Content-Type"] = "application/problem+json"
    return response


def _refusal(exception) -> str:
    """Why a request Django could not read was refused, in the words of the limits a person can act on."""
    if isinstance(exception, TooManyFilesSent):
        return (f"An upload takes at most {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files at once, and nothing "
                "was imported. Upload the files in several batches.")
    if isinstance(exception, RequestDataTooBig):
        return (f"The form is larger than the server accepts (the text fields together at most "
                f"{filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)}), and nothing was saved. "
                "Upload a long text as a file.")
    return "The server could not read this request, and nothing was saved."


@requires_csrf_token
def bad_request(request, exception):
    """The site's 400 (a request Django refused before any view, such as an upload of too many
    files): the reason as problem-details JSON under /api/, as plain text to the page's own
    requests (the page shows it), and on the site's page otherwise."""
    message = _refusal(exception)
    if request.path.startswith("/api/"):
        return _problem(400, "Bad Request", message)
    if request.headers.get("HX-Request") == "true":
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
    return render(request, "400.html", {"message": message}, status=400)


def not_found(request, exception):
    """The site's 404: problem-details JSON under /api/ (a URL no route matches), the page elsewhere."""
    if request.path.startswith("/api/"):
        return _problem(404, "Not Found", "No API route has this URL.")
    return defaults.page_not_found(request, exception)
