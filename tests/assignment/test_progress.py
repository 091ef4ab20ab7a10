"""The progress dashboard: numbers from a hand-built project, and a constant number of queries."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from annotator.labelling.models import Annotation
from annotator.labelling.queries import project_progress
from annotator.projects.models import Membership
from tests.factories import ArticleFactory, UserFactory, make_project

from .conftest import HTMX

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def annotate(article, user, status, submitted_hours_ago=None, kind="analyst"):
    submitted_at = NOW - timedelta(hours=submitted_hours_ago) if submitted_hours_ago is not None else None
    return Annotation.objects.create(
        article=article, annotator=user, status=status, kind=kind, submitted_at=submitted_at
    )


@pytest.fixture
def board(project, analyst, admin_user):
    """k = 2 and five articles:

    A1  analyst submitted (25 h ago), alice submitted (1 h ago)   complete
    A2  analyst submitted (23 h ago), bob in progress             partly, full (2 places taken)
    A3  alice skipped                                             untouched, open
    A4  bob skipped, analyst in progress                          partly, open
    A5  a reviewer's gold annotation only                         untouched, open
    carol is an analyst with no work; dave, no longer a member, skipped A5.
    """
    project.overlap = 2
    project.save()
    alice, bob, carol, dave = (UserFactory(username=n) for n in ("alice", "bob", "carol", "dave"))
    for user in (alice, bob, carol):
        Membership.objects.create(project=project, user=user, role="analyst")
    a1, a2, a3, a4, a5 = ArticleFactory.create_batch(5, project=project)
    annotate(a1, analyst, "submitted", 25)
    annotate(a1, alice, "submitted", 1)
    annotate(a2, analyst, "submitted", 23)
    annotate(a2, bob, "in_progress")
    annotate(a3, alice, "skipped")
    annotate(a4, bob, "skipped")
    annotate(a4, analyst, "in_progress")
    annotate(a5, admin_user, "submitted", 2, kind="gold")
    annotate(a5, dave, "skipped")  # dave is not a member (any more): their work still counts
    # Work in another project counts nowhere here.
    elsewhere = ArticleFactory(project=make_project(name="Other", analyst=analyst))
    annotate(elsewhere, analyst, "submitted", 1)
    return project


EXPECTED = {
    # username: (role, submitted, in progress, skipped, still available, last 24 h, per hour)
    "alice": ("analyst", 1, 0, 1, 2, 1, None),  # open: A3 A4 A5; alice skipped A3
    "analyst": ("analyst", 2, 1, 0, 2, 1, 0.5),  # opened A4; one more submission in 2 h
    "bob": ("analyst", 0, 1, 1, 2, 0, None),  # opened A4 (skipped); A2 is not open
    "carol": ("analyst", 0, 0, 0, 3, 0, None),
    "dave": (None, 0, 0, 1, 2, 0, None),
}


def as_rows(progress):
    return {
        a.user.username: (
            a.role, a.submitted, a.in_progress, a.skipped, a.available, a.last_24h,
            None if a.per_hour is None else round(a.per_hour, 6),
        )
        for a in progress.analysts
    }


class TestProjectProgressQuery:
    def test_numbers(self, board):
        progress = project_progress(project=board, now=NOW)
        overall = (progress.total, progress.complete, progress.partly, progress.untouched, progress.open)
        assert (progress.overlap, *overall) == (2, 5, 1, 2, 2, 3)
        rows = as_rows(progress)
        assert rows == EXPECTED
        assert list(rows) == sorted(rows)  # by username

    def test_empty_project(self, project):
        progress = project_progress(project=project, now=NOW)
        overall = (progress.total, progress.complete, progress.partly, progress.untouched, progress.open)
        assert overall == (0, 0, 0, 0, 0)
        assert as_rows(progress) == {"analyst": ("analyst", 0, 0, 0, 0, 0, None)}

    def test_per_hour_needs_two_submissions_at_different_times(self, project, analyst):
        a, b, c = ArticleFactory.create_batch(3, project=project)
        annotate(a, analyst, "submitted", 4)
        assert project_progress(project=project, now=NOW).analysts[0].per_hour is None
        annotate(b, analyst, "submitted", 3)
        annotate(c, analyst, "submitted", 0)
        assert project_progress(project=project, now=NOW).analysts[0].per_hour == pytest.approx(0.5)  # 2 in 4 h


def cells(content, user):
    row = re.search(rf'<tr id="analyst-{user.pk}">(.*?)</tr>', content, re.S).group(1)
    return re.findall(r"<td>(.*?)</td>", row)


class TestProgressPage:
    def url(self, project):
        return reverse("project_progress", args=[project.id])

    def test_full_page_shows_the_numbers_their_definitions_and_the_charts(self, client, board, admin_user):
        client.force_login(admin_user)
        response = client.get(self.url(board))
        assert response.status_code == 200
        content = response.text
        assert "<html" in content and "<h1>Progress</h1>" in content
        assert "<tbody><tr><td>1</td><td>2</td><td>2</td><td>5</td><td>3</td></tr></tbody>" in content
        for name, (_, *numbers, per_hour) in EXPECTED.items():
            person = get_user_model().objects.get(username=name)
            shown = [str(n) for n in numbers] + ["—" if per_hour is None else f"{per_hour:.1f}"]
            assert cells(content, person) == shown
        assert "dave <span class=\"muted\">(no longer a member)</span>" in content
        analysts_table = content.split('id="analysts"')[1].split("</table>")[0]
        assert "projectadmin" not in analysts_table  # gold work is not an analyst's
        for term in ("Complete", "Partly labelled", "Untouched", "Still available", "Last 24 h", "Per hour"):
            assert f"<dt>{term}</dt>" in content
        # The charts: a full bar (480 units) is all five articles, so one article is 96.
        overall = content[content.index('<svg id="overall-chart"') :]
        overall = overall[: overall.index("</svg>")]
        assert re.findall(r'<rect x="([\d.]+)" y="0" width="([\d.]+)"', overall) == [
            ("170.0", "96.0"), ("266.0", "192.0"), ("458.0", "192.0"),
        ]
        chart = content[content.index('<svg id="analyst-chart"') :]
        chart = chart[: chart.index("</svg>")]
        assert chart.count("<text ") == 5
        assert "<title>analyst: 2 submitted</title>" in chart and "<title>carol: 3 still available</title>" in chart
        assert " style=" not in content.split("<main")[1] and "<script" not in content.split("<main")[1]

    def test_htmx_get_gets_the_dashboard_fragment(self, client, board, reviewer):
        client.force_login(reviewer)
        response = client.get(self.url(board), headers=HTMX)
        assert response.status_code == 200
        assert "<html" not in response.text
        assert response.text.lstrip().startswith('<div id="dashboard">')
        assert "<tbody><tr><td>1</td><td>2</td><td>2</td><td>5</td><td>3</td></tr></tbody>" in response.text
        assert "HX-Request" in response["Vary"]

    @pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
    def test_analyst_403_non_member_404(self, client, board, analyst, other_user, headers):
        client.force_login(analyst)
        assert client.get(self.url(board), headers=headers).status_code == 403
        client.force_login(other_user)
        assert client.get(self.url(board), headers=headers).status_code == 404

    def test_anonymous(self, client, board):
        response = client.get(self.url(board))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
        assert client.get(self.url(board), headers=HTMX).status_code == 401


def busy_project(name, analysts):
    """`analysts` analysts who each submitted, started and skipped something in 3·analysts articles."""
    project = make_project(name=name)
    admin = UserFactory()
    Membership.objects.create(project=project, user=admin, role="admin")
    articles = ArticleFactory.create_batch(3 * analysts, project=project)
    for i in range(analysts):
        user = UserFactory()
        Membership.objects.create(project=project, user=user, role="analyst")
        annotate(articles[3 * i], user, "submitted", i)
        annotate(articles[3 * i + 1], user, "in_progress")
        annotate(articles[3 * i + 2], user, "skipped")
    return project, admin


def test_query_count_does_not_grow_with_analysts_or_articles(django_assert_max_num_queries):
    counts = []
    for name, analysts in (("Small", 2), ("Large", 10)):
        project, admin = busy_project(name, analysts)
        client = Client()
        client.force_login(admin)
        with CaptureQueriesContext(connection) as queries:
            with django_assert_max_num_queries(7):
                response = client.get(reverse("project_progress", args=[project.id]))
        assert response.status_code == 200
        assert response.text.count('<tr id="analyst-') == analysts
        counts.append(len(queries))
    assert counts[0] == counts[1]
