"""Benchmark 8: a reviewer's day in Chromium on the production server (issue #14, "Measured").

    python -m bench.reviewer_day --articles 20 --runs 1 [--port 8160]

The same server as bench.analyst_day (gunicorn with DEBUG off and a task worker, on the benchmark
PostgreSQL database). Two analysts' work on `--articles` workload articles is made with the
labelling services, as their pages would: both mark what bench.analyst_day's analyst marks (per
sentence a Source, a Quote linked to it as its speaker, and a Claim; an Arabic Claim), and the
second, article by article at random (fixed seed), leaves one span out, gives a Quote the label
Claim, takes a Claim one word shorter, marks a span of their own, or picks another topic. Both
submit.

A scripted reviewer in headless Chromium (1280×720) then takes the review queue from the top, and
on each article does what the review page's keys offer (its help overlay): the first disagreement
is open on arrival; `A` accepts the first analyst's span there, or, where only the second analyst
has one, `X`, a typed reason and `Enter` reject it; `N` moves to the next disagreement until every
one is decided. Each agreed span group is then opened by clicking its highlight and accepted with
`A`. Whenever an accept puts the second end of a link in gold, the page offers the link with the
focus on it, and `Enter` accepts it. Then the gold topics and stance (a click per topic, a
select, a reason when the analysts differ, *Save*), and *Mark reviewed* (back to the queue).

Counted: keys, clicks and typed reasons per decision (a decision: a span group accepted or
rejected, a link accepted, the topics and stance saved), and in all per article (with opening
it from the queue and *Mark reviewed*). Timed: each article from the click in the queue to the
queue shown again, and each decision from its last key or click to the review redrawn with it.
Afterwards the database must hold the decisions made.
"""

import argparse
import os
import random
import re
import statistics
import time
import uuid

from bench.analyst_day import plan
from bench.common import (
    BROWSER_ARGS, load_average, logged_in_page, median, percentile, production_server, setup_django,
)

PASSWORD = "bench-review-password-1"
LABELS = {"s": "Source", "q": "Quote", "c": "Claim"}
REASON = "Not what the article says"


def build(articles: int, seed: int):
    """The project, its reviewer, and what each article's review should end with."""
    from django.contrib.auth import get_user_model

    from annotator.corpus.models import Article
    from annotator.corpus.text import normalise, sha256
    from annotator.labelling import services
    from annotator.labelling.models import Annotation
    from annotator.projects.models import Membership, Project, RelationType
    from annotator.projects.services import project_create
    from bench.workload import articles as workload

    for old in Project.objects.filter(name="bench-reviewer-day"):
        Annotation.objects.filter(article__project=old).delete()
        old.delete()
    project = project_create(name="bench-reviewer-day")
    project.overlap = 2
    project.save(update_fields=["overlap"])
    User = get_user_model()
    analysts = []
    for name in ("bench-review-analyst-1", "bench-review-analyst-2"):
        user, _ = User.objects.get_or_create(username=name)
        Membership.objects.create(project=project, user=user, role=Membership.Role.ANALYST)
        analysts.append(user)
    reviewer, _ = User.objects.get_or_create(username="bench-reviewer")
    reviewer.set_password(PASSWORD)
    reviewer.save()
    Membership.objects.create(project=project, user=reviewer, role=Membership.Role.REVIEWER)
    labels = {label.name: label for label in project.span_labels.all()}
    relation_types = {
        t.source_label.name: t for t in RelationType.objects.filter(project=project).select_related("source_label")
    }
    topics = {t.name: t.id for t in project.topics.all()}
    west = project.stance_targets.get(name="the West").id
    critical = project.stance_values.get(name="critical").id
    rng = random.Random(seed)
    kinds = {"missing": 0, "label": 0, "boundary": 0, "extra": 0, "topics": 0}
    for row in workload(articles, analysts=0, seed=seed):
        text = normalise(row["text"])
        article = Article.objects.create(project=project, title=row["title"], text=text, sha256=sha256(text),
                                         source=row["source"], language="en")
        steps = plan(text, 2)
        first = [(s["phrase"], LABELS[s["key"]], s.get("link_to")) for s in steps]
        second = list(first)
        if rng.random() < 0.5:  # a span left out
            kinds["missing"] += 1
            second.pop(rng.randrange(len(second)))
        quotes = [i for i, (_, label, _) in enumerate(second) if label == "Quote"]
        if quotes and rng.random() < 0.5:  # a quote taken for a claim (then linked as a claim's source)
            kinds["label"] += 1
            i = rng.choice(quotes)
            second[i] = (second[i][0], "Claim", second[i][2])
        claims = [i for i, (phrase, label, _) in enumerate(second)
                  if label == "Claim" and " " in phrase and phrase.isascii()]
        if claims and rng.random() < 0.5:  # a claim one word shorter
            kinds["boundary"] += 1
            i = rng.choice(claims)
            second[i] = (second[i][0].split(" ", 1)[1], "Claim", None)
        if rng.random() < 0.5:  # a span of the second analyst's own: the report's first line
            kinds["extra"] += 1
            second.append((text.split("\n", 1)[0].split(" ", 1)[1], "Claim", None))
        picked = [["Armenia"], ["Armenia"]]
        if rng.random() < 0.5:
            kinds["topics"] += 1
            picked[1] = ["Armenia", "Syria"]
        for user, spans, chosen in zip(analysts, (first, second), picked):
            made = {}
            for phrase, label, _ in spans:
                start = text.index(phrase)
                made[phrase] = services.span_create(
                    article=article, annotator=user, label=labels[label], start=start, end=start + len(phrase),
                    text=phrase, client_id=uuid.uuid4(),
                )
            for phrase, label, link_to in spans:
                if link_to and link_to in made:
                    services.relation_create(relation_type=relation_types[label], source=made[phrase],
                                             target=made[link_to])
            services.analyst_labels_set(article=article, annotator=user, topic_ids=[topics[t] for t in chosen],
                                        stances={west: critical})
            services.annotation_submit(annotation=services.annotation_get_or_create(article=article, annotator=user))
    return project, reviewer, kinds


class Reviewer:
    """The person at the page: every key, click and typed reason goes through here and is counted."""

    def __init__(self, page):
        self.page = page
        self.actions = 0

    def press(self, key):
        self.actions += 1
        self.page.keyboard.press(key)

    def click(self, locator):
        self.actions += 1
        locator.click()

    def click_at(self, x, y):
        self.actions += 1
        self.page.mouse.click(x, y)

    def type(self, text):
        # A reason is one action, whatever its length.
        self.actions += 1
        self.page.keyboard.type(text)

    def choose(self, select, label):
        self.actions += 2  # open the list, pick
        select.select_option(label=label)


OPEN_GROUP = "#decision .group-detail:not([hidden])"
# Scrolls the group's line to the middle of the view (its text window then loads its highlights).
SCROLL_TO_GROUP = """
(key) => {
  const start = parseInt(key, 10);
  const line = [...document.querySelectorAll('#article-text p[data-start]')].find(
    (p) => Number(p.dataset.start) <= start && start < Number(p.dataset.end));
  const r = line.getBoundingClientRect();
  if (r.top < 0 || r.bottom > innerHeight) line.scrollIntoView({block: 'center'});
}
"""
# The middle of the first piece of a group's highlight, for a click.
MARK_POINT = """
(key) => {
  const r = document.querySelector(`#article-text mark[data-group="${CSS.escape(key)}"]`).getClientRects()[0];
  return {x: r.left + Math.min(r.width / 2, 20), y: r.top + r.height / 2};
}
"""


def redrawn(page, before: str):
    """Wait for the review to be drawn again after a decision (its gold version moves on)."""
    try:
        page.wait_for_function(
            "(v) => { const r = document.getElementById('review'); return r && r.dataset.version !== v; }", arg=before)
    except Exception:
        # What the page showed instead, for the person reading the bench's failure.
        page.screenshot(path="/tmp/reviewer_day-failed.png", full_page=True)
        print("not redrawn; the page says:", page.evaluate(
            "() => [document.activeElement.outerHTML.slice(0, 300), "
            "...Array.from(document.querySelectorAll('[role=alert], .message')).map((e) => e.textContent.trim())]"))
        raise


def decide(reviewer, decisions: list, timings: list, counts: dict) -> None:
    """Accept or reject in the open group (its first analyst's span, else reject the second's),
    then accept any link the decision offers."""
    page = reviewer.page
    detail = page.locator(OPEN_GROUP)
    first_has = detail.locator("dd").first.locator(".analyst-span form.accept").count() > 0
    version = page.locator("#review").get_attribute("data-version")
    offers = set(page.locator(".offer-accept").evaluate_all("bs => bs.map(b => b.dataset.offer)"))
    actions = reviewer.actions
    if first_has:
        started = time.perf_counter()
        reviewer.press("Shift+A")
        counts["accepted"] += 1
    else:
        reviewer.press("Shift+X")
        reviewer.type(REASON)
        started = time.perf_counter()
        reviewer.press("Enter")
        counts["rejected"] += 1
    redrawn(page, version)
    timings.append((time.perf_counter() - started) * 1000)
    decisions.append(reviewer.actions - actions)
    fresh = set(page.locator(".offer-accept").evaluate_all("bs => bs.map(b => b.dataset.offer)")) - offers
    if fresh:
        # The page puts the focus on the link it now offers (once the swap has settled).
        page.wait_for_function(
            "() => document.activeElement && document.activeElement.classList.contains('offer-accept')")
        version = page.locator("#review").get_attribute("data-version")
        actions = reviewer.actions
        started = time.perf_counter()
        reviewer.press("Enter")
        redrawn(page, version)
        timings.append((time.perf_counter() - started) * 1000)
        decisions.append(reviewer.actions - actions)
        counts["links"] += 1


def review_article(reviewer, decisions, timings, counts) -> None:
    page = reviewer.page
    disagreements = page.locator("#decision .group-detail.disagree").count()
    # The first disagreement is open on arrival; N moves on to each next one.
    for i in range(disagreements):
        if i:
            key = page.locator(OPEN_GROUP).get_attribute("data-group")
            reviewer.press("Shift+N")
            page.wait_for_function(
                "([sel, key]) => { const d = document.querySelector(sel); return d && d.dataset.group !== key; }",
                arg=[OPEN_GROUP, key])
            decisions_before = len(decisions)
            decide(reviewer, decisions, timings, counts)
            decisions[decisions_before] += 1  # the N that brought the reviewer here
        else:
            decide(reviewer, decisions, timings, counts)
    # The agreed groups: a click on the highlight, then A.
    agreed = page.locator("#decision .group-detail:not(.disagree)")
    for key in agreed.evaluate_all("ds => ds.map(d => d.dataset.group)"):
        if page.locator(f"#group-{key} .analyst-span form.accept").count() == 0:
            continue  # in gold already
        page.evaluate(SCROLL_TO_GROUP, key)
        page.wait_for_selector(f'#article-text mark[data-group="{key}"]', state="attached")
        point = page.evaluate(MARK_POINT, key)
        reviewer.click_at(point["x"], point["y"])
        page.wait_for_selector(f"#group-{key}:not([hidden])")
        index = len(decisions)
        decide(reviewer, decisions, timings, counts)
        decisions[index] += 1  # the click that opened it
        counts["agreed"] += 1
    # Topics and stance: the first analyst's, with a reason when the second chose otherwise.
    form = page.locator("#review-labels")
    actions = reviewer.actions
    for row in form.locator("tbody tr").all():
        box = row.locator("input[type=checkbox]")
        if box.count() and row.locator("td").first.inner_text().startswith("✓") and not box.is_checked():
            reviewer.click(box)
    reviewer.choose(form.get_by_label("Gold stance toward the West"), "critical")
    if form.locator("tr.disagree").count():
        reviewer.click(form.get_by_label("Reason (required"))
        reviewer.type(REASON)
    version = page.locator("#review").get_attribute("data-version")
    started = time.perf_counter()
    reviewer.click(form.get_by_role("button", name="Save gold topics and stance"))
    redrawn(page, version)
    timings.append((time.perf_counter() - started) * 1000)
    decisions.append(reviewer.actions - actions)
    counts["labels"] += 1


def day(page, project, base) -> dict:
    from annotator.labelling.models import Annotation, Relation, Span

    result = {"decisions": [], "timings": [], "article_s": [], "article_actions": [], "article_decisions": [],
              "counts": {"accepted": 0, "rejected": 0, "links": 0, "labels": 0, "agreed": 0}}
    reviewer = Reviewer(page)
    queue = f"{base}/p/{project.id}/review/"
    page.goto(queue)
    while True:
        first = page.locator("section[aria-labelledby=waiting-heading] tbody a").first
        if first.count() == 0:
            break
        actions, decided = reviewer.actions, len(result["decisions"])
        started = time.perf_counter()
        reviewer.click(first)
        page.wait_for_url(re.compile(r"/review/\d+/$"))
        page.wait_for_selector(OPEN_GROUP)
        review_article(reviewer, result["decisions"], result["timings"], result["counts"])
        reviewer.click(page.get_by_role("button", name="Mark reviewed"))
        page.wait_for_url(queue)
        page.wait_for_load_state("load")
        result["article_s"].append(time.perf_counter() - started)
        result["article_actions"].append(reviewer.actions - actions)
        result["article_decisions"].append(len(result["decisions"]) - decided)
    gold = Annotation.objects.filter(article__project=project, kind=Annotation.Kind.GOLD)
    counts = result["counts"]
    reviewed = gold.filter(status=Annotation.Status.SUBMITTED).count()
    assert reviewed == len(result["article_s"]) == project.articles.count()
    assert Span.objects.filter(annotation__in=gold).count() == counts["accepted"]  # "agreed" are among them
    assert Relation.objects.filter(annotation__in=gold).count() == counts["links"]
    assert all(g.topics.exists() and g.stances.count() == 1 for g in gold)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=20)
    parser.add_argument("--runs", type=int, default=1, help="days, each on a fresh project")
    parser.add_argument("--port", type=int, default=8160)
    args = parser.parse_args()
    setup_django()
    # This process reads the database while Playwright's sync API runs its event loop.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    runs = []
    print(f"load average before: {load_average()}")
    with production_server(args.port) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=BROWSER_ARGS)
        for run in range(args.runs):
            project, user, kinds = build(args.articles, seed=run + 1)
            with logged_in_page(browser, base, user.username, PASSWORD) as (page, errors):
                started = time.monotonic()
                result = day(page, project, base)
                result["seconds"] = time.monotonic() - started
                result["errors"] = errors
                runs.append(result)
            print(f"run {run + 1}: {len(result['article_s'])} articles (second analyst's differences: {kinds}), "
                  f"decisions {result['counts']} in {result['seconds']:.0f} s; console errors: {len(errors)}",
                  flush=True)
        browser.close()
    print(f"load average after: {load_average()}")
    report(runs)


def report(runs: list[dict]) -> None:
    def joined(name):
        return [v for r in runs for v in r[name]]

    def row(name, values):
        print(f"{name:<52} {median(values):>8.1f} {percentile(values, 95):>8.1f} {max(values):>8.1f} {len(values):>6}")

    decisions = joined("decisions")
    per_article = [a / d for r in runs for a, d in zip(r["article_actions"], r["article_decisions"])]
    print()
    print(f"{'':<52} {'median':>8} {'p95':>8} {'max':>8} {'n':>6}")
    row("actions per decision (keys, clicks, reasons)", decisions)
    row("actions per article (with queue and Mark reviewed)", joined("article_actions"))
    row("decisions per article", joined("article_decisions"))
    row("actions per decision, article by article", per_article)
    row("decision → review redrawn, ms", joined("timings"))
    row("time per article (queue to queue), s", joined("article_s"))
    print(f"mean actions per decision: {statistics.mean(decisions):.2f} (with opening and marking reviewed: "
          f"{sum(joined('article_actions')) / len(decisions):.2f}); minutes per day "
          f"{' '.join(f'{r['seconds'] / 60:.1f}' for r in runs)}; console errors {sum(len(r['errors']) for r in runs)}")


if __name__ == "__main__":
    main()
