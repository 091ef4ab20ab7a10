from django.db import OperationalError
from django.http import HttpResponse
from django.test import RequestFactory

from annotator.middleware import DatabaseUnavailableMiddleware


def view_that_loses_the_database(request):
    raise OperationalError("connection refused")


def run(headers=None):
    request = RequestFactory().post("/p/1/a/1/spans/", headers=headers or {})
    middleware = DatabaseUnavailableMiddleware(lambda r: HttpResponse("ok"))
    try:
        view_that_loses_the_database(request)
    except OperationalError as error:
        return middleware.process_exception(request, error)


def test_a_page_request_gets_a_clear_503():
    response = run()
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert b"Nothing from this request was saved" in response.content


def test_an_htmx_request_gets_a_short_message_the_page_shows():
    response = run({"HX-Request": "true"})
    assert response.status_code == 503
    assert response.content.decode().startswith("The database cannot be reached right now. Your change is not saved")


def test_other_errors_are_left_to_django():
    request = RequestFactory().get("/")
    assert DatabaseUnavailableMiddleware(lambda r: None).process_exception(request, ValueError("x")) is None
