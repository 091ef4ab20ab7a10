"""The labelling page widens a selection that ends inside a grapheme cluster to the whole cluster,
so the analyst's span is saved (the server would refuse half of one)."""

import pytest

from annotator.labelling.models import Span
from tests.factories import UserFactory, make_project

from .helpers import log_in, make_article, select_phrase
from .test_offsets import _SELECT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FAMILY = "👨\u200d👩\u200d👧"
TEXT = f"The {FAMILY} family came.\nFlags 🇫🇷🇩🇪 and q\u0323\u0307 here.\nقال مُحَمَّد اليوم."


@pytest.fixture
def labelling(page):
    analyst = UserFactory(username="clusters")
    project = make_project(name="Clusters", analyst=analyst)
    article = make_article(project, TEXT, title="Clusters", language="en")
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    log_in(page, "clusters")
    page.goto(f"/p/{project.id}/a/{article.id}/")
    yield page, article
    assert errors == []
    assert page.csp_errors == []


def cases(text):
    """(selection [start, end) with an edge inside a cluster, the span the page must save)."""
    family, flags = text.index(FAMILY), text.index("🇫🇷")
    letter, arabic = text.index("q"), text.index("مُحَمَّد")
    return [
        ((family - 4, family + 2), (family - 4, family + len(FAMILY))),  # "The 👨" and its joiner
        ((family + 3, family + len(FAMILY) + 7), (family, family + len(FAMILY) + 7)),  # from 👩 on
        ((flags + 1, flags + 3), (flags, flags + 4)),  # the second half of 🇫🇷 to the first of 🇩🇪
        ((letter, letter + 1), (letter, letter + 3)),  # q without its marks
        ((arabic, arabic + 3), (arabic, arabic + 4)),  # مُح without its fatha
    ]


def test_a_selection_inside_a_cluster_is_saved_as_whole_clusters(labelling):
    page, article = labelling
    text = article.text
    expected = []
    for (start, end), (whole_start, whole_end) in cases(text):
        page.evaluate(_SELECT, [start, end])
        with page.expect_response("**/spans/") as answer:
            page.keyboard.press("c")
        assert answer.value.status == 201
        expected.append((whole_start, whole_end, text[whole_start:whole_end]))

    saved = sorted(Span.objects.filter(annotation__article=article).values_list("start", "end", "text"))
    assert saved == sorted(expected)
    page.screenshot(path="/tmp/edges-clusters.png")


def test_a_mouse_drag_over_the_family_saves_it_whole(labelling):
    page, article = labelling
    assert select_phrase(page, f"{FAMILY} family") == f"{FAMILY} family"
    with page.expect_response("**/spans/") as answer:
        page.keyboard.press("c")

    assert answer.value.status == 201
    start = article.text.index(FAMILY)
    assert list(Span.objects.values_list("start", "end")) == [(start, start + len(FAMILY) + 7)]
