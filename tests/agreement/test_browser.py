import csv
from pathlib import Path

import pytest

from tests.browser.helpers import axe_check, log_in
from tests.factories import ArticleFactory, UserFactory, make_project

from .helpers import annotate, at

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def project():
    reviewer, ann, ben = (UserFactory(username=name) for name in ("reviewer1", "ann", "ben"))
    project = make_project(name="Agreement project", reviewer=reviewer, analyst=[ann, ben])
    # January: ann and ben agree on every article (Armenia on the first, nothing on the second).
    # February: on two more articles they disagree, each ticking Armenia where the other did not.
    # All time, Armenia: (1,1), (0,0), (1,0), (0,1): o_11 = 2, o_00 = 2, o_10 = o_01 = 2;
    # n_1 = n_0 = 4, n = 8: alpha = 1 - 7 * 4 / (2 * 4 * 4) = 1 - 28/32 = 0.125.
    # From February: (1,0), (0,1): o_10 = o_01 = 2, n_1 = n_0 = 2, n = 4: alpha = 1 - 3 * 4 / 8 = -0.5.
    for day, tags in [("2025-01-10", ("Armenia", "Armenia")), ("2025-01-11", (None, None)),
                      ("2025-02-10", ("Armenia", None)), ("2025-02-11", (None, "Armenia"))]:
        article = ArticleFactory(project=project)
        for user, topic in zip((ann, ben), tags, strict=True):
            annotate(article, user, topics=[topic] if topic else [], submitted=at(day))
    return project


def alpha_cell(page, name):
    return page.locator("#alpha-table tr", has=page.get_by_role("rowheader", name=name)).locator("td").first


def test_reviewer_filters_by_date_and_downloads_the_csv(page, project):
    log_in(page, "reviewer1")
    page.goto(f"/p/{project.id}/agreement/")
    axe_check(page)
    assert page.get_by_role("heading", name="Agreement between analysts").is_visible()
    assert alpha_cell(page, "Topic: Armenia").inner_text() == "0.125"
    assert "4 articles" in page.locator(".agreement-summary").inner_text()

    page.get_by_label("From", exact=True).fill("2025-02-01")
    with page.expect_response(lambda r: "/agreement/?" in r.url and r.request.headers.get("hx-request") == "true"):
        page.get_by_role("button", name="Show").click()
    page.locator(".agreement-summary", has_text="Submitted from 2025-02-01").wait_for()
    assert alpha_cell(page, "Topic: Armenia").inner_text() == "-0.500"
    assert "2 articles" in page.locator(".agreement-summary").inner_text()
    # Only the results were swapped, and the address bar says what is shown.
    assert page.get_by_label("From", exact=True).input_value() == "2025-02-01"
    assert page.url.endswith(f"/p/{project.id}/agreement/?from=2025-02-01&to=")

    with page.expect_download() as info:
        page.get_by_role("link", name="Download these figures (CSV)").click()
    download = info.value
    assert download.suggested_filename == f"agreement-project-{project.id}-agreement-from-2025-02-01.csv"
    rows = list(csv.reader(Path(download.path()).read_text(encoding="utf-8").splitlines()))
    assert rows[0] == ["metric", "scope", "item", "value", "n"]
    assert ["alpha_topic", "all analysts", "Armenia", "-0.5000", "2"] in rows
    assert ["kappa_topic", "ann & ben", "Armenia", "-1.0000", "2"] in rows
    assert page.csp_errors == []


def test_bad_range_is_explained_in_place(page, project):
    log_in(page, "reviewer1")
    page.goto(f"/p/{project.id}/agreement/")
    page.get_by_label("From", exact=True).fill("2025-03-01")
    page.get_by_label("To", exact=True).fill("2025-02-01")
    page.get_by_role("button", name="Show").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "The first day is after the last day." in alert.inner_text()
    assert page.locator("#alpha-table").count() == 0
    assert page.csp_errors == []
