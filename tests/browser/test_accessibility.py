"""axe-core finds no serious or critical accessibility violation on any page, in the states a
person brings it to (a span group open, a reject reason asked for, the keyboard help, a change's
before and after), in Chromium. Each browser test also runs `axe_check` on the pages it visits."""

from pathlib import Path

import pytest
from django.conf import settings

from annotator.labelling import services as labelling
from annotator.projects.models import RelationType
from annotator.review import services as review
from tests.factories import UserFactory, make_project
from tests.review.helpers import choose, mark, submit

from .helpers import axe_check, axe_violations, log_in, make_article, select_phrase

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARABIC_SEED = Path(settings.BASE_DIR) / "fixtures" / "seeds" / "002_fbed2bf9dc136266.txt"
QUOTE = "الدول الغربية التي تتودد الآن إلى أرمينيا، تريد أن تتحالف معها ضد روسيا الاتحادية"
SPEAKER = "سيرغي لافروف"


@pytest.fixture
def world():
    first, second = UserFactory(username="analyst1"), UserFactory(username="analyst2")
    lead = UserFactory(username="lead")
    project = make_project(name="Accessible project", analyst=[first, second], admin=lead)
    labels = {label.name: label for label in project.span_labels.all()}
    speaker = RelationType.objects.get(project=project, name="speaker")
    article = make_article(project, ARABIC_SEED.read_text(encoding="utf-8"), title="مقال 1", language="ar")
    for user, label in ((first, "Quote"), (second, "Claim")):
        quote = mark(article, user, labels[label], QUOTE, attributes={"speaker": SPEAKER} if label == "Quote" else None)
        source = mark(article, user, labels["Source"], SPEAKER)
        if label == "Quote":
            labelling.relation_create(relation_type=speaker, source=quote, target=source)
        choose(article, user, topics=["Armenia"] if user == first else ["Syria"], stances={"the West": "critical"})
        submit(article, user)
    source = article.annotations.get(annotator=first).spans.get(label=labels["Source"])
    review.gold_span_accept(article=article, reviewer=lead, span=source, expected_version=0)
    other = make_article(project, "Second article.\nLavrov said “NATO is expanding”.", language="en")
    return project, article, other


def test_every_page_passes_axe(page, world):
    project, article, other = world
    page.goto("/accounts/login/")
    axe_check(page)
    log_in(page, "lead")
    for url in ("/", f"/p/{project.id}/", f"/p/{project.id}/members/", f"/p/{project.id}/progress/",
                f"/p/{project.id}/agreement/", f"/p/{project.id}/datasets/", f"/p/{project.id}/import/",
                f"/p/{project.id}/review/", "/p/999999/"):
        page.goto(url)
        axe_check(page)

    # The review page: the first disagreement open, a reject reason asked for, the keyboard help.
    page.goto(f"/p/{project.id}/review/{article.id}/")
    axe_check(page)
    page.keyboard.press("Shift+X")
    page.locator("#decision .group-detail:not([hidden]) details.reject[open]").wait_for()
    axe_check(page)
    page.keyboard.press("Escape")  # gives up the reject: the keys work again
    assert page.evaluate("() => document.activeElement.tagName") == "SUMMARY"
    page.keyboard.press("?")
    page.locator("#help").wait_for(state="visible")
    axe_check(page)
    page.keyboard.press("Escape")

    # The history with a change opened, and filtered.
    page.goto(f"/p/{project.id}/a/{article.id}/history/")
    page.locator("#changes details summary").first.click()
    axe_check(page)
    with page.expect_response(lambda r: "kind=accept" in r.url):
        page.get_by_label("Kind").select_option("accept")
    axe_check(page)

    # The labelling page, with a span in its editor.
    page.goto(f"/p/{project.id}/a/{other.id}/")
    page.wait_for_selector("#article-text")
    select_phrase(page, "NATO is expanding")
    page.keyboard.press("q")
    page.locator("#article-text mark.span").first.wait_for()
    axe_check(page)


def test_axe_sees_a_violation(page):
    page.goto("/accounts/login/")
    page.evaluate("() => document.querySelector('main').append(document.createElement('button'))")
    assert [v["id"] for v in axe_violations(page)] == ["button-name"]
