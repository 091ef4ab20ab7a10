"""A reviewer sees two analysts' links drawn between the spans and takes them into gold, in Chromium."""

import json
from pathlib import Path

import pytest
from django.conf import settings

from annotator.labelling import services as labelling
from annotator.projects.models import RelationType
from tests.browser.helpers import axe_check, log_in, make_article
from tests.datasets.helpers import build, split_files
from tests.factories import UserFactory, make_project

from .helpers import gold_of, mark, submit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QUOTE = "the West is trying to pull Armenia away"
CLAIM = "repeated the claim"
TEXT = "Lavrov said “the West is trying to pull Armenia away”.\nThe ministry repeated the claim."
ARABIC_SEED = Path(settings.BASE_DIR) / "fixtures" / "seeds" / "002_fbed2bf9dc136266.txt"
ARABIC_QUOTE = "الدول الغربية التي تتودد الآن إلى أرمينيا، تريد أن تتحالف معها ضد روسيا الاتحادية"
ARABIC_SPEAKER = "سيرغي لافروف"

# Each drawn arrow: its class and where its path starts and ends, in the layer's coordinates.
ARROWS = """() => [...document.querySelectorAll('#link-layer path.link')].map(p => {
  const length = p.getTotalLength();
  const a = p.getPointAtLength(0), b = p.getPointAtLength(length);
  return {cls: p.getAttribute('class'), x1: a.x, y1: a.y, x2: b.x, y2: b.y, length};
})"""
# Where a span's first mark piece starts, in the same coordinates as the arrows.
MARK_TOP = """(spanId) => {
  const layer = document.getElementById('link-layer').getBoundingClientRect();
  const r = document.querySelector(`#article-text mark[data-span="${spanId}"]`).getClientRects()[0];
  return {x: r.left + r.width / 2 - layer.left, y: r.top - layer.top};
}"""


@pytest.fixture
def people():
    analysts = [UserFactory(username="analyst1"), UserFactory(username="analyst2")]
    project = make_project(name="Links project", analyst=analysts, reviewer=[UserFactory(username="reviewer1")])
    return project, analysts


@pytest.fixture
def console(page):
    """Every console error and uncaught exception of the page (CSP violations included)."""
    errors = []
    page.on("console", lambda m: m.type == "error" and errors.append(f"{m.text} at {m.location}"))
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def analyst_work(article, user, spans, links):
    """`spans` {name: (label, phrase)}; `links` [(type, source name, target name)]; then submitted."""
    project = article.project
    labels = {label.name: label for label in project.span_labels.all()}
    made = {name: mark(article, user, labels[label], phrase) for name, (label, phrase) in spans.items()}
    types = {t.name: t for t in RelationType.objects.filter(project=project)}
    relations = {
        (kind, source, target): labelling.relation_create(
            relation_type=types[kind], source=made[source], target=made[target]
        )
        for kind, source, target in links
    }
    submit(article, user)
    return made, relations


def open_group(page, span):
    """Click the span's highlight: its group's decisions open in the side panel."""
    page.locator(f"#article-text mark[data-span='{span.id}']").first.click()
    page.locator(f"#group-{span.start}-{span.end}").wait_for()


def near(point, x, y):
    return abs(point[0] - x) < 1.5 and abs(point[1] - y) < 1.5


def test_reviewer_accepts_both_ends_then_the_offered_link_rejects_another_and_gold_exports_it(
    page, console, people, settings, tmp_path
):
    project, (first, second) = people
    article = make_article(project, TEXT, title="Links", language="en")
    spans = {"quote": ("Quote", QUOTE), "lavrov": ("Source", "Lavrov"), "claim": ("Claim", CLAIM)}
    a, a_links = analyst_work(article, first, spans | {"ministry": ("Source", "ministry")},
                              [("speaker", "quote", "lavrov"), ("source", "claim", "ministry")])
    b, b_links = analyst_work(article, second, spans, [("speaker", "quote", "lavrov"), ("source", "claim", "lavrov")])

    log_in(page, "reviewer1")
    page.goto(f"/p/{project.id}/review/{article.id}/")
    # Four links drawn, two per analyst in their own line style, each from its source's mark to its target's.
    arrows = page.evaluate(ARROWS)
    assert sorted(arrow["cls"] for arrow in arrows) == ["link analyst-0"] * 2 + ["link analyst-1"] * 2
    for span, target, arrow in [
        (a["quote"], a["lavrov"], "analyst-0"), (a["claim"], a["ministry"], "analyst-0"),
        (b["quote"], b["lavrov"], "analyst-1"), (b["claim"], b["lavrov"], "analyst-1"),
    ]:
        start, end = page.evaluate(MARK_TOP, span.id), page.evaluate(MARK_TOP, target.id)
        assert any(
            x["cls"] == f"link {arrow}" and near((x["x1"], x["y1"]), start["x"], start["y"])
            and near((x["x2"], x["y2"]), end["x"], end["y"]) and x["length"] > 20
            for x in arrows
        ), (span.text, target.text, arrows)
    axe_check(page)
    links = page.locator("section[aria-labelledby=links-heading]")
    assert f"{QUOTE} (Quote) → speaker → Lavrov (Source)" in links.inner_text()
    # caret="initial": hiding the caret leaves style="" on every input, which htmx's next swap
    # copies, and the page's CSP (rightly) refuses.
    page.screenshot(path="/tmp/relations-links.png", full_page=True, caret="initial")

    # Both ends of the speaker link into gold: a click on each in the text opens its decisions.
    open_group(page, a["quote"])
    page.locator(f"#accept-{a['quote'].id} button").click()
    page.wait_for_function("() => document.getElementById('review').dataset.version === '2'")
    open_group(page, a["lavrov"])
    page.locator(f"#accept-{a['lavrov'].id} button").click()
    offer = page.get_by_role("button", name=f"Accept link speaker: {QUOTE} to Lavrov")
    offer.wait_for()
    # The offered link has the focus: one key takes it into gold.
    # (Focused once the swap settles, which may come a moment after the button is in the page.)
    page.wait_for_function("() => document.activeElement.classList.contains('offer-accept')", timeout=5000)
    with page.expect_response(lambda r: "/relations/" in r.url and r.status == 200):
        page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelectorAll('#link-layer path.link.gold').length === 1")
    assert page.locator("#offered-links").count() == 0

    # analyst2's claim → Lavrov link is rejected, with a reason.
    link_id = b_links[("source", "claim", "lavrov")].id
    cell = page.locator(f"[data-link-source='{b['claim'].id}'][data-link-target='{b['lavrov'].id}']")
    cell.locator("summary", has_text="Reject…").click()
    cell.get_by_label("Why reject analyst2's source link?").fill("The ministry repeats it, not Lavrov")
    with page.expect_response(lambda r: f"/relations/{link_id}/reject/" in r.url and r.status == 200):
        cell.get_by_role("button", name="Reject link").click()
    page.get_by_text("rejected: The ministry repeats it, not Lavrov").wait_for()
    page.screenshot(path="/tmp/relations-accepted.png", full_page=True, caret="initial")

    page.get_by_role("button", name="Mark reviewed").click()
    page.wait_for_url(f"**/p/{project.id}/review/")
    assert console == [] and page.csp_errors == []

    gold = gold_of(article)
    rejection = gold.changes.get(action="reject")
    assert (rejection.subject, rejection.subject_id) == ("relation", link_id)
    settings.ANNOTATOR_SNAPSHOT_ROOT = tmp_path / "snapshots"
    snapshot = build(project, gold.annotator, formats=["jsonl", "label-studio"])
    [path] = split_files(snapshot, "jsonl").values()
    [record] = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    [annotation] = record["annotations"]
    by_id = {span["id"]: span for span in annotation["spans"]}
    [relation] = annotation["relations"]
    assert (relation["type"], by_id[relation["source"]]["text"], by_id[relation["target"]]["text"]) == (
        "speaker", QUOTE, "Lavrov"
    )
    assert relation["id"] == gold.relations.get().id
    assert {span["text"]: span["review"] for span in annotation["spans"]} == {
        QUOTE: {"decision": "accepted", "from": ["analyst1", "analyst2"]},
        "Lavrov": {"decision": "accepted", "from": ["analyst1", "analyst2"]},
    }


def test_links_are_drawn_in_a_right_to_left_arabic_article(page, console, people):
    project, (first, second) = people
    article = make_article(project, ARABIC_SEED.read_text(encoding="utf-8"), language="ar")
    spans = {"quote": ("Quote", ARABIC_QUOTE), "speaker": ("Source", ARABIC_SPEAKER)}
    a, _ = analyst_work(article, first, spans, [("speaker", "quote", "speaker")])
    b, _ = analyst_work(article, second, spans, [("speaker", "quote", "speaker")])

    log_in(page, "reviewer1")
    page.goto(f"/p/{project.id}/review/{article.id}/")
    paragraph = page.locator(f"#article-text mark[data-span='{a['quote'].id}']").first.evaluate(
        "m => getComputedStyle(m.closest('p')).direction"
    )
    assert paragraph == "rtl"
    arrows = page.evaluate(ARROWS)
    assert sorted(arrow["cls"] for arrow in arrows) == ["link analyst-0", "link analyst-1"]
    start, end = page.evaluate(MARK_TOP, a["quote"].id), page.evaluate(MARK_TOP, a["speaker"].id)
    first_arrow = next(x for x in arrows if x["cls"] == "link analyst-0")
    assert near((first_arrow["x1"], first_arrow["y1"]), start["x"], start["y"])
    assert near((first_arrow["x2"], first_arrow["y2"]), end["x"], end["y"])
    # The quote's first piece is at its right, where a right-to-left quote starts.
    quote_box = page.locator(f"#article-text mark[data-span='{a['quote'].id}']").first.bounding_box()
    layer_box = page.locator("#link-layer").bounding_box()
    assert start["x"] > quote_box["x"] - layer_box["x"]
    page.locator(f"mark[data-span='{a['quote'].id}']").first.scroll_into_view_if_needed()
    page.screenshot(path="/tmp/relations-arabic.png", caret="initial")

    open_group(page, a["quote"])
    page.locator(f"#accept-{a['quote'].id} button").click()
    page.wait_for_function("() => document.getElementById('review').dataset.version === '2'")
    open_group(page, b["speaker"])
    page.locator(f"#accept-{b['speaker'].id} button").click()
    page.get_by_role("button", name="Accept link speaker:").click()
    page.wait_for_function("() => document.querySelectorAll('#link-layer path.link.gold').length === 1")
    assert list(gold_of(article).relations.values_list("type__name", "source__text", "target__text")) == [
        ("speaker", ARABIC_QUOTE, ARABIC_SPEAKER)
    ]
    page.screenshot(path="/tmp/relations-arabic-gold.png", caret="initial")
    assert console == [] and page.csp_errors == []
