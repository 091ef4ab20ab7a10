"""Issue #15's "Done when", for the trained model, in Chromium: the reviewer trains a model from
gold and sees its scores and learning curve; a new article then gets the model's suggestions,
which an analyst sees on the labelling page."""

import pytest

from annotator.corpus.services import article_import
from annotator.labelling.models import Annotation
from annotator.suggestions.models import SuggestionDecision
from annotator.training.models import ModelVersion
from tests.browser.helpers import axe_check, log_in
from tests.factories import UserFactory, make_project

from .conftest import quoted_corpus, reviewed_corpus

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
    item = page.locator("#suggestions li.suggestion", has_text=f"model:{model.id}").filter(has_text="Armenia")
    assert item.count() == 1
    assert page.locator("label.check.suggested", has_text="Armenia").locator(".suggested-tag").is_visible()
    assert not page.get_by_role("checkbox", name="Armenia suggested").is_checked()

    # The model's stance toward the West: pre-marked beside its select, not chosen; A accepts it.
    west = project.stance_targets.get(name="the West")
    neutral = project.stance_values.get(name="neutral")
    assert page.locator(f"#stance-suggested-{west.id}").inner_text() == "suggested: neutral"
    select = page.locator(f"#stance-{west.id}")
    assert select.input_value() == ""
    assert select.locator("option", has_text="neutral (suggested)").count() == 1
    page.screenshot(path="/tmp/train/labelling-model-suggestion.png", full_page=True)
    axe_check(page)
    stance_item = page.locator("#suggestions li.suggestion[data-kind=stance]")
    assert stance_item.count() == 1 and "the West: neutral" in stance_item.inner_text()
    stance_item.locator(".suggestion-chip").focus()
    page.keyboard.press("Shift+A")
    page.locator("#span-notice", has_text="Stance chosen toward the West: neutral.").wait_for()
    page.wait_for_function(f"document.getElementById('stance-{west.id}').value === '{neutral.id}'")
    assert page.locator(f"#stance-suggested-{west.id}").count() == 0
    annotation = Annotation.objects.get(article=article, annotator=analyst)
    assert dict(annotation.stances.values_list("target_id", "value_id")) == {west.id: neutral.id}
    assert SuggestionDecision.objects.get(annotation=annotation, key__startswith="stance:").source == model.source
    # Then the topic, rejected with X: the page's topics form, posted after, keeps the stance.
    item.locator(".suggestion-chip").focus()
    page.keyboard.press("Shift+X")
    page.locator("#span-notice", has_text="Rejected the suggestion “Armenia”.").wait_for()
    page.get_by_role("checkbox", name="Ukraine").check()
    page.locator("#document-labels [role=status]", has_text="Saved at").wait_for()
    assert dict(annotation.stances.values_list("target_id", "value_id")) == {west.id: neutral.id}
    assert list(annotation.topics.values_list("name", flat=True)) == ["Ukraine"]
    page.reload()
    assert page.locator(f"#stance-{west.id}").input_value() == str(neutral.id)
    assert page.locator("#suggestions li.suggestion", has_text=f"model:{model.id}").count() == 0
    axe_check(page)


def test_an_analyst_accepts_a_model_span_with_the_key(page):
    from annotator.labelling.models import Span
    from annotator.suggestions.models import SuggesterSettings
    from annotator.training.services import model_training_start
    from tests.suggestions.test_browser import ghosts

    reviewer = UserFactory(username="reviewer1")
    analyst = UserFactory(username="analyst1")
    project = make_project(name="Spans modelled", analyst=analyst, reviewer=reviewer)
    quoted_corpus(project, reviewer, 30)
    # Only the model suggests here: the rules would propose the same quotation.
    SuggesterSettings.objects.create(project=project, quotes=False, speakers=False, topics=False, model=True)
    model = model_training_start(project=project, user=reviewer)  # trained as it commits (the tests' backend)
    model.refresh_from_db()
    assert model.status == "ready", model.error

    # The reviewer sees the spans' scores and their line on the curve.
    log_in(page, "reviewer1")
    page.goto(f"/p/{project.id}/model/")
    version = page.locator("article.model-version").first
    cells = version.get_by_role("table", name="Spans on the held-out articles").get_by_role(
        "row", name="Quote").locator("td").all_inner_texts()
    quote = next(row for row in model.scores["spans"] if row["label"] == "Quote")
    assert cells == ["1.00", "1.00", "1.00", str(quote["support"])]
    assert version.locator("svg polyline.curve-line-spans").count() == 1
    assert version.get_by_text("Spans, all together: F1 1.00.").is_visible()
    page.screenshot(path="/tmp/train/model-page-spans.png", full_page=True)
    axe_check(page)
    page.context.clear_cookies()

    text = "Officials met in the capital.\nThe envoy said «no deal was reached on Friday» after the meeting."
    [article] = article_import(project=project, files=[("new.txt", text.encode())]).created
    log_in(page, "analyst1")
    page.goto(f"/p/{project.id}/a/{article.id}/")
    item = page.locator("#suggestions li.suggestion", has_text=f"model:{model.id}")
    assert item.count() == 1 and "no deal was reached on Friday" in item.inner_text()
    assert ghosts(page) == ["no deal was reached on Friday"]
    page.screenshot(path="/tmp/train/labelling-model-span.png", full_page=True)
    axe_check(page)

    page.locator("#article-text").focus()
    page.keyboard.press("Shift+A")  # the first press focuses the first suggestion
    with page.expect_response("**/accept/"):
        page.keyboard.press("Shift+A")
    page.locator("#article-text mark.span", has_text="no deal was reached").first.wait_for()
    assert ghosts(page) == [] and page.locator("#suggestions li.suggestion").count() == 0
    [span] = Span.objects.filter(annotation__article=article)
    assert (span.text, span.label.name, span.suggested_by) == ("no deal was reached on Friday", "Quote",
                                                               f"model:{model.id}")
    axe_check(page)
