"""Changes other than a new span, made while the server cannot be reached (issue 6, "nothing lost").

The request is aborted in the browser (as when the network or the server is down): the page
must say the change is not saved and offer Retry; once the server is back, Retry saves it.
"""

import uuid

import pytest

from annotator.labelling import services
from annotator.labelling.models import Annotation, Span
from tests.browser.helpers import log_in, make_article

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = "Lavrov said “NATO is expanding” today.\nالدول الغربية تتودد إلى أرمينيا."


def open_article(page, project, article=None):
    article = article or make_article(project, TEXT, title="Offline", language="")
    log_in(page, "analyst")
    page.goto(f"/p/{project.id}/a/{article.id}/")
    page.wait_for_selector("#article-text")
    return article


def with_span(project, article, analyst, phrase="NATO is expanding", label="Quote"):
    start = article.text.index(phrase)
    return services.span_create(
        article=article, annotator=analyst, label=project.span_labels.get(name=label), start=start,
        end=start + len(phrase), text=phrase, client_id=uuid.uuid4(),
    )


def fail_then_retry(page, pattern, change):
    """Make `change` while requests matching `pattern` fail; check the notice; restore; Retry."""
    page.route(pattern, lambda route: route.abort())
    change()
    status = page.locator("#save-status")
    problem = status.get_by_text("The server cannot be reached. Your change is not saved.")
    problem.wait_for()
    page.unroute(pattern)
    with page.expect_response(pattern) as answer:
        status.get_by_role("button", name="Retry").click()
    assert answer.value.ok
    status.wait_for(state="hidden")


def test_topic_and_stance_are_saved_by_retry_after_the_server_was_unreachable(page, project, analyst):
    article = open_article(page, project)
    page.route("**/labels/", lambda route: route.abort())
    page.get_by_label("Armenia").check()
    page.locator("#save-status").get_by_text("The server cannot be reached. Your change is not saved.").wait_for()
    assert not Annotation.objects.filter(article=article, topics__isnull=False).exists()
    page.unroute("**/labels/")
    # A second change while the first is still unsaved: Retry must send both.
    page.route("**/labels/", lambda route: route.abort())
    page.get_by_label("Toward the West").select_option("critical")
    page.locator("#save-status").get_by_role("button", name="Retry").wait_for()
    page.unroute("**/labels/")
    with page.expect_response("**/labels/") as answer:
        page.locator("#save-status").get_by_role("button", name="Retry").click()
    assert answer.value.ok
    page.locator("#document-labels [role=status]", has_text="Saved at").wait_for()
    page.locator("#save-status").wait_for(state="hidden")

    annotation = Annotation.objects.get(article=article, annotator=analyst)
    assert [t.name for t in annotation.topics.all()] == ["Armenia"]
    assert {s.target.name: s.value.name for s in annotation.stances.all()} == {"the West": "critical"}


def test_span_edit_is_saved_by_retry_after_the_server_was_unreachable(page, project, analyst):
    article = make_article(project, TEXT, title="Offline", language="")
    span = with_span(project, article, analyst)
    open_article(page, project, article)
    page.locator(f"#span-{span.id} .chip").click()
    page.get_by_label("Speaker").wait_for()

    def edit():
        page.get_by_label("Speaker").fill("سيرغي لافروف")
        page.get_by_role("button", name="Save span").click()

    fail_then_retry(page, "**/update/", edit)
    span.refresh_from_db()
    assert span.attributes == {"speaker": "سيرغي لافروف"}


def test_span_delete_is_done_by_retry_after_the_server_was_unreachable(page, project, analyst):
    article = make_article(project, TEXT, title="Offline", language="")
    span = with_span(project, article, analyst)
    kept = with_span(project, article, analyst, "تتودد إلى أرمينيا", "Claim")
    open_article(page, project, article)
    page.locator(f"#span-{span.id} .chip").click()
    page.get_by_role("button", name="Delete span").wait_for()

    fail_then_retry(page, "**/delete/", lambda: page.get_by_role("button", name="Delete span").click())
    page.locator(f"#span-{span.id}").wait_for(state="detached")
    assert list(Span.objects.values_list("id", flat=True)) == [kept.id]
