"""A reviewer adjudicates two analysts' different work in Chromium, with the mouse and keyboard."""

from pathlib import Path

import pytest
from django.conf import settings

from annotator.labelling import services as labelling
from annotator.labelling.models import Annotation
from annotator.projects.models import Membership
from annotator.review import services
from tests.browser.helpers import axe_check, log_in, make_article, select_phrase
from tests.factories import UserFactory, make_project

from .helpers import choose, gold_of, mark, submit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QUOTE = "the West is trying to pull Armenia away"
TEXT = "Lavrov said “the West is trying to pull Armenia away”.\nThe ministry repeated the claim."
ARABIC_SEED = Path(settings.BASE_DIR) / "fixtures" / "seeds" / "002_fbed2bf9dc136266.txt"
ARABIC_QUOTE = "الدول الغربية التي تتودد الآن إلى أرمينيا، تريد أن تتحالف معها ضد روسيا الاتحادية"


@pytest.fixture
def people():
    analysts = [UserFactory(username="analyst1"), UserFactory(username="analyst2")]
    reviewers = [UserFactory(username="reviewer1"), UserFactory(username="reviewer2")]
    project = make_project(name="Review project", analyst=analysts, reviewer=reviewers)
    project.overlap = 2
    project.save()
    return project, analysts, reviewers


def labels_of(project):
    return {label.name: label for label in project.span_labels.all()}


def test_reviewer_accepts_adds_overrules_and_marks_reviewed(page, people):
    project, (first, second), _ = people
    labels = labels_of(project)
    article = make_article(project, TEXT, title="Lavrov on Armenia", language="en")
    quote = mark(article, first, labels["Quote"], QUOTE, attributes={"speaker": "Lavrov"})
    mark(article, second, labels["Claim"], QUOTE)
    choose(article, first, topics=["Armenia"], stances={"the West": "critical"})
    choose(article, second, topics=["Armenia", "Ukraine"], stances={"the West": "critical"})
    submit(article, first)
    submit(article, second)

    log_in(page, "reviewer1")
    page.goto(f"/p/{project.id}/review/")
    row = page.locator("#queue tbody tr", has_text="Lavrov on Armenia")
    assert "Disagree: labels differ, topics differ" in row.inner_text()
    axe_check(page)
    row.get_by_role("link", name="Lavrov on Armenia").click()
    page.wait_for_url(f"**/p/{project.id}/review/{article.id}/")

    # Both analysts' spans are in the text, and the table marks the label difference.
    titles = page.locator("#article-text mark.rspan").evaluate_all("ms => ms.map(m => m.title)")
    assert set(titles) == {"analyst1: Quote", "analyst2: Claim"}
    axe_check(page)
    group = page.locator(f"#group-{quote.start}-{quote.end}")
    assert "labels differ" in group.inner_text()
    assert "speaker: Lavrov" in group.inner_text()

    with page.expect_response(lambda r: "/accept/" in r.url and r.status == 200):
        group.get_by_role("button", name="Accept analyst1's Quote").click()
    page.locator("#gold-spans li[id^=gold-]").first.wait_for()
    assert page.locator("#review").get_attribute("data-version") == "2"

    # The reviewer's own span: a real mouse drag and the Source key.
    page.locator("#article-text").scroll_into_view_if_needed()
    assert select_phrase(page, "ministry") == "ministry"
    page.keyboard.press("s")
    page.wait_for_function("() => document.querySelectorAll('#gold-spans li[id^=gold-]').length === 2")

    # Gold topics that overrule analyst2 (who also chose Ukraine) need a reason.
    form = page.locator("#review-labels")
    assert form.get_by_label("Gold topic: Armenia").is_checked() is False
    form.get_by_label("Gold topic: Armenia").check()
    form.get_by_label("Gold stance toward the West").select_option("critical")
    form.get_by_role("button", name="Save gold topics and stance").click()
    page.locator("#save-status").get_by_text("overrule analyst2").wait_for()
    assert gold_of(article).topics.count() == 0
    page.locator("#save-status").get_by_role("button", name="Dismiss").click()
    form.get_by_label("Reason (required when your choice overrules an analyst's)").fill(
        "Ukraine is mentioned only in passing."
    )
    with page.expect_response(lambda r: "/labels/" in r.url and r.status == 200):
        form.get_by_role("button", name="Save gold topics and stance").click()
    assert page.locator("#review-labels").get_by_label("Gold topic: Armenia").is_checked()

    page.get_by_role("button", name="Mark reviewed").click()
    page.wait_for_url(f"**/p/{project.id}/review/")
    page.get_by_text("Marked “Lavrov on Armenia” reviewed.").wait_for()
    reviewed = page.locator("section[aria-labelledby=reviewed-heading]")
    assert "Lavrov on Armenia" in reviewed.inner_text()

    gold = gold_of(article)
    assert (gold.status, gold.annotator.username) == ("submitted", "reviewer1")
    start = TEXT.index("ministry")
    assert list(gold.spans.order_by("start").values_list("label__name", "start", "end", "text", "attributes")) == [
        ("Quote", quote.start, quote.end, QUOTE, {"speaker": "Lavrov"}),
        ("Source", start, start + 8, "ministry", {}),
    ]
    assert labelling.labels_state(gold) == {"topics": ["Armenia"], "stance": {"the West": "critical"}}

    reviewed.get_by_role("link", name="History of Lavrov on Armenia").click()
    history = page.locator("#changes")
    history.wait_for()
    axe_check(page)
    accept = history.locator("tr.action-accept")
    assert "Accepted" in accept.inner_text() and f"From analyst1's span {quote.id}." in accept.inner_text()
    labels_row = history.locator("tr.action-update", has_text="Ukraine is mentioned only in passing.")
    assert labels_row.count() == 1 and "Gold" in labels_row.inner_text()
    assert "Submitted" in history.locator("tr.action-submit").first.inner_text()
    assert page.csp_errors == []


def test_arabic_paragraphs_read_right_to_left_and_a_gold_span_keeps_its_offsets(page, people):
    project, (first, second), _ = people
    labels = labels_of(project)
    article = make_article(project, ARABIC_SEED.read_text(encoding="utf-8"), language="ar")
    mark(article, first, labels["Quote"], ARABIC_QUOTE)
    mark(article, second, labels["Quote"], ARABIC_QUOTE[:30].strip())
    submit(article, first)
    submit(article, second)

    log_in(page, "reviewer1")
    page.goto(f"/p/{project.id}/review/{article.id}/")
    directions = page.locator("#article-text p:not(.blank)").evaluate_all(
        "ps => ps.map(p => getComputedStyle(p).direction)"
    )
    assert directions[0] == "rtl" and set(directions) == {"rtl"}
    assert page.locator("#decision .group-detail.disagree").count() == 2  # boundary difference, both ways

    phrase = "سيرغي لافروف"
    assert phrase in select_phrase(page, phrase)
    page.get_by_role("button", name="Source").click()
    page.locator("#gold-spans li[id^=gold-]").first.wait_for()
    span = gold_of(article).spans.get()
    assert (span.label.name, span.text) == ("Source", phrase)
    assert article.text[span.start : span.end] == phrase
    assert page.csp_errors == []


def test_a_save_from_a_stale_page_shows_the_conflict_and_changes_nothing(page, people):
    project, (first, second), (_, other_reviewer) = people
    labels = labels_of(project)
    article = make_article(project, TEXT, title="Conflict", language="en")
    quote = mark(article, first, labels["Quote"], QUOTE)
    claim = mark(article, second, labels["Claim"], QUOTE)
    submit(article, first)
    submit(article, second)

    log_in(page, "reviewer1")
    page.goto(f"/p/{project.id}/review/{article.id}/")
    # Meanwhile another reviewer accepts the claim.
    services.gold_span_accept(article=article, reviewer=other_reviewer, span=claim, expected_version=0)

    group = page.locator(f"#group-{quote.start}-{quote.end}")
    with page.expect_response(lambda r: "/accept/" in r.url) as answer:
        group.get_by_role("button", name="Accept analyst1's Quote").click()
    assert answer.value.status == 409
    page.locator("#save-status").get_by_text("Someone else changed this annotation").wait_for()
    assert page.locator("#save-status").get_by_role("button", name="Retry").count() == 0
    gold = gold_of(article)
    assert list(gold.spans.values_list("label__name", flat=True)) == ["Claim"]
    assert (gold.version, gold.annotator.username) == (2, "reviewer2")
    assert Annotation.objects.filter(article=article, kind="gold").count() == 1
    assert Membership.objects.get(user__username="reviewer1").role == "reviewer"


def test_decisions_beside_an_arabic_seed_with_the_keyboard(page, people):
    """At 1280×720 the decisions, topics and stance sit beside the text; N/P move between the
    disagreements, A accepts, X rejects with a reason, ? shows the keys."""
    project, (first, second), _ = people
    labels = labels_of(project)
    article = make_article(project, ARABIC_SEED.read_text(encoding="utf-8"), title="عنوان عربي", language="ar")
    quote = mark(article, first, labels["Quote"], ARABIC_QUOTE)
    mark(article, second, labels["Claim"], ARABIC_QUOTE)  # labels differ
    agreed = mark(article, first, labels["Source"], "سيرغي لافروف")
    mark(article, second, labels["Source"], "سيرغي لافروف")
    late = "هيئة تحرير الشام"
    alone = mark(article, second, labels["Source"], late)  # missing for analyst1, near the end
    submit(article, first)
    submit(article, second)

    page.set_viewport_size({"width": 1280, "height": 720})
    log_in(page, "reviewer1")
    page.goto(f"/p/{project.id}/review/{article.id}/")
    in_view = """(selector) => { const r = document.querySelector(selector).getBoundingClientRect();
                                 return r.top >= 0 && r.top < innerHeight && r.left >= 0 && r.right <= innerWidth; }"""
    # Beside the text, without scrolling: the open decision, the topics, the stance.
    for selector in ("#decision .group-detail:not([hidden])", "#review-labels", "#article-text"):
        assert page.evaluate(in_view, selector), selector
    side = page.locator("aside.side").bounding_box()
    text = page.locator("#article-text").bounding_box()
    assert side["x"] > text["x"] + text["width"] - 1 or side["x"] + side["width"] < text["x"] + 1
    # The page is no longer than the article and the links below it: nothing to scroll past.
    page_height = page.evaluate("() => document.documentElement.scrollHeight")
    assert page_height < text["y"] + text["height"] + 400

    # The first disagreement is open: the quote the analysts labelled differently.
    detail = page.locator(f"#group-{quote.start}-{quote.end}")
    assert detail.is_visible() and "labels differ" in detail.inner_text()
    assert page.locator(f"#group-{agreed.start}-{agreed.end}").is_hidden()

    page.keyboard.press("Shift+N")
    later = page.locator(f"#group-{alone.start}-{alone.end}")
    later.wait_for()
    assert detail.is_hidden() and "missing for some" in later.inner_text()
    # Its highlight is picked out in the text and scrolled into view; the panel stays beside it.
    selected = page.locator("#article-text mark.selected")
    selected.first.wait_for()  # its text window loads its highlights as it scrolls into view
    assert selected.evaluate_all("ms => ms.map(m => m.dataset.group)") == [f"{alone.start}-{alone.end}"]
    assert page.evaluate(in_view, "#article-text mark.selected") and page.evaluate(in_view, "#decision")

    # A accepts it (the version the page showed), and the panel stays on it after the swap.
    with page.expect_response(lambda r: f"/spans/{alone.id}/accept/" in r.url and r.status == 200):
        page.keyboard.press("Shift+A")
    later.get_by_text("in gold").wait_for()
    assert later.is_visible()
    assert list(gold_of(article).spans.values_list("text", flat=True)) == [late]

    # Round the end back to the first disagreement; X rejects analyst1's quote with a reason.
    page.keyboard.press("Shift+N")
    detail.wait_for()
    page.keyboard.press("Shift+X")
    reason = page.get_by_label("Why reject analyst1's Quote?")
    assert page.evaluate("() => document.activeElement.name") == "reason"
    reason.fill("The minister's words, but a claim")
    with page.expect_response(lambda r: f"/spans/{quote.id}/reject/" in r.url and r.status == 200):
        page.keyboard.press("Enter")
    detail.get_by_text("rejected: The minister's words, but a claim").wait_for()
    assert gold_of(article).changes.filter(action="reject", subject_id=quote.id).count() == 1

    # P goes back, round the start, to the last disagreement.
    page.locator("body").focus()
    page.keyboard.press("Shift+P")
    later.wait_for()

    page.keyboard.press("?")
    help = page.locator("#help")
    help.wait_for(state="visible")
    assert "Next disagreement" in help.inner_text() and "Reject" in help.inner_text()
    page.keyboard.press("Escape")
    help.wait_for(state="hidden")
    page.screenshot(path="/tmp/review-arabic-decisions.png", caret="initial")

    # 800 px wide: the panel is above the text, not below the whole article, and stays in view.
    page.set_viewport_size({"width": 800, "height": 720})
    page.reload()
    page.evaluate("() => scrollTo(0, 0)")  # the reload kept the scroll position
    side, text = page.locator("aside.side").bounding_box(), page.locator("#article-text").bounding_box()
    assert side["y"] < text["y"]
    page.keyboard.press("Shift+N")  # from the first disagreement to the late group, near the article's end
    later.wait_for()
    selected.first.wait_for()  # as above: its text window loads its highlights as it scrolls into view
    assert page.evaluate(in_view, "#decision") and page.evaluate(in_view, "#article-text mark.selected")
    page.screenshot(path="/tmp/review-arabic-decisions-800.png", caret="initial")


def test_n_past_the_last_group_loaded_loads_the_next_page_of_groups(page, people, monkeypatch):
    """A huge article's side panel holds a page of span groups; N goes on into the next page, and P
    from the first goes round to the last of all."""
    from annotator.review import views

    # One start a page (the page reads three spans' starts, two of them the first group's).
    monkeypatch.setattr(views, "GROUP_PAGE", 1)
    project, (first, second), _ = people
    labels = labels_of(project)
    article = make_article(project, TEXT, title="Paged groups", language="en")
    phrases = ["Lavrov", "the West", "Armenia", "ministry"]
    quotes = [mark(article, first, labels["Quote"], phrase) for phrase in phrases]
    for phrase in phrases:
        mark(article, second, labels["Claim"], phrase)  # labels differ in every group
    submit(article, first)
    submit(article, second)

    log_in(page, "reviewer1")
    page.goto(f"/p/{project.id}/review/{article.id}/")
    keys = [f"{q.start}-{q.end}" for q in quotes]
    assert page.locator("#group-picker option").evaluate_all("os => os.map(o => o.value)") == keys[:1]
    assert page.locator(f"#group-{keys[0]}").is_visible()
    for key in keys[1:]:
        page.locator("body").focus()
        page.keyboard.press("Shift+N")
        page.locator(f"#group-{key}").wait_for()
        assert page.locator("#group-picker").input_value() == key
    assert page.locator("#group-picker option").evaluate_all("os => os.map(o => o.value)") == keys
    assert page.locator("#groups-more button").count() == 0
    # All loaded: N goes round to the first.
    page.locator("body").focus()
    page.keyboard.press("Shift+N")
    page.locator(f"#group-{keys[0]}").wait_for()
    axe_check(page)

    # A click on a highlight beyond the groups loaded loads them up to it.
    page.reload()
    assert page.locator("#group-picker option").count() == 1
    page.locator(f'#article-text mark[data-group="{keys[-1]}"]').first.click()
    page.locator(f"#group-{keys[-1]}").wait_for()
    assert page.locator("#group-picker").input_value() == keys[-1]

    # P from the first disagreement goes round to the article's last, not the last loaded.
    page.reload()
    assert page.locator("#group-picker option").count() == 1
    page.locator("body").focus()
    page.keyboard.press("Shift+P")
    page.locator(f"#group-{keys[-1]}").wait_for()
    assert page.locator("#group-picker").input_value() == keys[-1]
    assert page.locator("#groups-more button").count() == 0
