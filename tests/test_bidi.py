"""User text in our own sentences and headings (a title in a message, a name in a heading) is
isolated for bidi: inside a `<bdi>` or an element with a `dir` attribute, so an Arabic title or
name cannot reorder the words and punctuation around it."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from annotator.labelling.models import Annotation
from annotator.projects.models import Membership
from annotator.review import services as review
from tests.factories import ArticleFactory, UserFactory, make_project
from tests.review.helpers import mark, submit

pytestmark = pytest.mark.django_db

# Each ends in a number, the case that visibly moves without isolation ("Marked “2 عنوان” reviewed.").
PROJECT, TITLE, NAME, LABEL = "مشروع الأخبار 2", "عنوان المقال 3", "محلل4", "اقتباس5"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
# Text a browser never lays out in a line of ours, or where markup cannot go.
UNSHOWN = {"title", "script", "style", "option", "textarea"}


class Isolation(HTMLParser):
    """Every piece of text containing one of `needles`, with whether an element around it isolates it."""

    def __init__(self, needles):
        super().__init__()
        self.needles, self.stack, self.found = needles, [], []

    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            # An SVG <text> (a chart's bar name) is laid out as a paragraph of its own, holding the name alone.
            self.stack.append((tag, tag in ("bdi", "text") or "dir" in dict(attrs)))

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if any(tag in UNSHOWN for tag, _ in self.stack):
            return
        for needle in self.needles:
            if needle in data:
                self.found.append((needle, any(isolated for _, isolated in self.stack), data.strip()[:80]))


def not_isolated(html):
    parser = Isolation([PROJECT, TITLE, NAME, LABEL])
    parser.feed(html)
    return [(needle, text) for needle, isolated, text in parser.found if not isolated]


@pytest.fixture
def world():
    analyst, other, lead = UserFactory(username=NAME), UserFactory(username="analyst2"), UserFactory(username="lead")
    project = make_project(name=PROJECT, analyst=[analyst, other], admin=lead)
    project.span_labels.filter(name="Quote").update(name=LABEL)
    label = project.span_labels.get(name=LABEL)
    article = ArticleFactory(project=project, title=TITLE)
    for user in (analyst, other):
        mark(article, user, label, "the West is trying")
        submit(article, user)
    review.gold_span_accept(
        article=article, reviewer=lead, expected_version=0,
        span=article.annotations.get(annotator=analyst).spans.get(),
    )
    return project, article, analyst, lead


def pages(project, article):
    p, a = project.id, article.id
    return [
        reverse("home"), reverse("project_detail", args=[p]), reverse("project_members", args=[p]),
        reverse("project_progress", args=[p]), reverse("review_queue", args=[p]),
        reverse("review_article", args=[p, a]), reverse("article_history", args=[p, a]),
        reverse("dataset_list", args=[p]), reverse("article_import", args=[p]), reverse("project_agreement", args=[p]),
    ]


def test_every_page_isolates_names_titles_and_labels(client, world):
    project, article, _, lead = world
    client.force_login(lead)
    found = {}
    for url in pages(project, article):
        response = client.get(url)
        assert response.status_code == 200, url
        found[url] = not_isolated(response.content.decode())
    assert found == {url: [] for url in found}


def test_the_labelling_page_isolates_them_too(client, world):
    project, article, analyst, _ = world
    Annotation.objects.filter(annotator=analyst).update(status=Annotation.Status.IN_PROGRESS)
    client.force_login(analyst)
    response = client.get(reverse("label_article", args=[project.id, article.id]))
    assert response.status_code == 200
    assert not_isolated(response.content.decode()) == []


def test_the_reviewed_message_isolates_the_title(client, world):
    project, article, _, lead = world
    client.force_login(lead)
    response = client.post(reverse("review_done", args=[project.id, article.id]), {"version": 2}, follow=True)
    html = response.content.decode()
    assert f"Marked “<bdi>{TITLE}</bdi>” reviewed." in html
    assert not_isolated(html) == []


def test_member_messages_isolate_the_name(client, world):
    project, _, analyst, lead = world
    client.force_login(lead)
    membership = Membership.objects.get(project=project, user=analyst)
    response = client.post(
        reverse("member_change_role", args=[project.id, membership.id]), {"role": "reviewer"}, follow=True
    )
    assert f"<bdi>{NAME}</bdi> is now reviewer." in response.content.decode()
    assert not_isolated(response.content.decode()) == []


def test_the_checker_sees_a_name_that_is_not_isolated():
    assert not_isolated(f"<p>Marked “{TITLE}” reviewed.</p>") == [(TITLE, f"Marked “{TITLE}” reviewed.")]
    assert not_isolated(f"<p>Marked “<bdi>{TITLE}</bdi>” reviewed.</p><h1 dir='auto'>{TITLE}</h1>") == []
