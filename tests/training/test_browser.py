"""Issue #15's "Done when", for the trained model, in Chromium: the reviewer trains a model from
gold and sees its scores and learning curve; a new article then gets the model's suggestions,
which an analyst sees on the labelling page."""

import pytest

from annotator.corpus.services import article_import
from annotator.training.models import ModelVersion
from tests.browser.helpers import axe_check, log_in
from tests.factories import UserFactory, make_project

from .conftest import reviewed_corpus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_reviewer_trains_a_model_and_an_analyst_sees_its_topic(page):
    reviewer = UserFactory(username="reviewer1")
    analyst = UserFactory(username="analyst1")
    project = make_project(name="Modelled", analyst=analyst, reviewer=reviewer)
    reviewed_corpus(project, reviewer, 40)

    log_in(page, "reviewer1")
    page.goto(f"/p/{project.id}/")
    page.get_by_role("link", name="Model").click()
    page.wait_for_url(f"**/p/{project.id}/model/")
    assert page.get_by_text("40 reviewed articles to learn from").is_visible()
    axe_check(page)
    # The tests' task backend trains as the request commits; the panel polls until it is ready.
    page.get_by_role("button", name="Train a new model").click()
    version = page.locator("article.model-version").first
    version.locator(".model-status", has_text="Ready").wait_for()
    model = ModelVersion.objects.get()
    assert model.status == "ready" and model.created_by == reviewer
    scores = version.get_by_role("table", name="Topics on the held-out articles")
    for row in model.scores["topics"][:4]:  # the three learned topics' and one never seen
        cells = scores.get_by_role("row", name=row["label"]).locator("td").all_inner_texts()
        if row["trained"]:
            assert cells == [f"{row['precision']:.2f}", f"{row['recall']:.2f}", f"{row['f1']:.2f}", str(row["support"])]
        else:
            assert cells[0].startswith("not learned") and row["label"] == "Iran nuclear deal (JCPOA)"
    assert version.get_by_text("Topics, all together: F1 1.00.").is_visible()
    assert version.locator("svg polyline.curve-line").count() == 1
    assert version.locator("svg circle.curve-point").count() == len(model.curve) == 3
    assert version.get_by_role("img", name="Learning curve").is_visible()
    page.screenshot(path="/tmp/train/model-page.png", full_page=True)
    axe_check(page)

    # A new article, imported as every article is: its suggestions (the model's too) are computed
    # by the task once the import commits.
    text = "Officials met in the capital.\nThe vostrak delegation said the talks went on all week."
    [article] = article_import(project=project, files=[("new.txt", text.encode())]).created
    page.context.clear_cookies()
    log_in(page, "analyst1")
    page.goto(f"/p/{project.id}/a/{article.id}/")
    item = page.locator("#suggestions li.suggestion", has_text=f"model:{model.id}")
    assert item.count() == 1 and "Armenia" in item.inner_text()
    assert page.locator("label.check.suggested", has_text="Armenia").locator(".suggested-tag").is_visible()
    assert not page.get_by_role("checkbox", name="Armenia suggested").is_checked()
    page.screenshot(path="/tmp/train/labelling-model-suggestion.png", full_page=True)
    axe_check(page)
