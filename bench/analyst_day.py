"""Benchmark 7: an analyst's day in Chromium on the production server (issue #14, "Measured").

    python -m bench.analyst_day --articles 20 --runs 1 [--sentences 2] [--port 8150]

gunicorn (DEBUG off, two workers, as deploy/annotator-web.service) and a task worker serve the
app on the benchmark PostgreSQL database. A scripted analyst in headless Chromium (1280×720)
logs in, clicks *Label next article* and labels `--articles` articles of bench.workload (about
4,000 characters each: English with curly quotes, some Arabic, some emoji) the way a person
does, every span made with a real mouse drag (tests/browser/helpers.select_phrase) and a label
key:

- in `--sentences` English sentences ("The ministry said on Monday that “NATO is trying to …”,
  and trade fell by 12 per cent."): the speaker as Source (`s`), the quoted words as Quote
  (`q`), then the Quote's speaker link in its editor (the link list: open it and pick the Source,
  two clicks; the Link button, one), and the tail as Claim (`c`);
- the first Arabic sentence, if the article has one, as Claim (a right-to-left drag);
- one topic (a click), the stance toward the West (a select: two clicks), and *Submit and next*
  (`Shift`+`Enter`).

Scrolling (the phrase brought to the middle of the view when it is out of it) is not counted.
Measured in the page with performance.now(): from the label key's keydown to the new span's
<mark> in the text (a MutationObserver; the next animation frame too), split into the page's work
before the save's request, the request (the server's part of it from Resource Timing) and the
swap after it; and from *Submit and next*'s keydown to the next article's page loaded (its
navigation's DOMContentLoaded and load ends), split into the submit's round trip and the next
page's own navigation. After each run the database must hold exactly what the analyst made.
Targets (issue #14): the median of keystrokes and clicks per span is one (the selection plus one
key); key to highlight p95 < 100 ms; page to page p95 < 300 ms.
"""

import argparse
import os
import re
import statistics
import time

from bench.common import (
    BROWSER_ARGS, load_average, logged_in_page, median, percentile, production_server, setup_django,
)

PASSWORD = "bench-day-password-1"
SENTENCE = re.compile(r"(?P<speaker>[A-Z][^“”\n]*?) (?:said|told|wrote|argued|warned|insisted|claimed|added)[^“”\n]*? "
                      r"that “(?P<quote>[^”]+)”, and (?P<tail>[^.\n]+)\.")
ARABIC_SENTENCE = re.compile(r"[\u0600-\u06ff][\u0600-\u06ff “” ]+[\u0600-\u06ff]")

# Armed before a label key: the keydown's time, then the first <mark> of a span the page did not
# show before (`known`: the analyst's span ids in the database just before) and the frame after.
ARM_KEY = """
(known) => {
  const old = new Set(known.map(String));
  const t = window.__bench = {};
  window.addEventListener('keydown', () => { t.start = performance.now(); }, {capture: true, once: true});
  const fresh = () => Array.from(document.querySelectorAll('#article-text mark[data-span]')).find((m) => !old.has(m.dataset.span));
  const observer = new MutationObserver(() => {
    if (t.start === undefined || t.end !== undefined) return;
    const mark = fresh();
    if (!mark) return;
    t.end = performance.now();
    t.span = mark.dataset.span;
    observer.disconnect();
    // Where the time went: the save's request as Resource Timing saw it.
    const save = performance.getEntriesByType('resource').filter((e) => e.name.endsWith('/spans/') && e.startTime >= t.start).pop();
    if (save) Object.assign(t, {sent: save.startTime, waited: save.responseStart - save.requestStart, answered: save.responseEnd});
    requestAnimationFrame(() => { t.frame = performance.now(); });
  });
  observer.observe(document.body, {childList: true, subtree: true, attributes: true, attributeFilter: ['data-span']});
}
"""

# Armed before Shift+Enter: the keydown's time and the submit's answer, kept across the navigation.
ARM_SUBMIT = """
() => {
  const now = () => String(performance.timeOrigin + performance.now());
  window.addEventListener('keydown', () => sessionStorage.setItem('bench:key', now()), {capture: true, once: true});
  document.addEventListener('htmx:afterRequest', () => sessionStorage.setItem('bench:answer', now()), {once: true});
}
"""

ARRIVED = """
() => {
  const n = performance.getEntriesByType('navigation')[0];
  const o = performance.timeOrigin;
  return {key: Number(sessionStorage.getItem('bench:key')), answer: Number(sessionStorage.getItem('bench:answer')),
          start: o + n.startTime, response: o + n.responseStart, server: n.responseStart - n.requestStart,
          dcl: o + n.domContentLoadedEventEnd, load: o + n.loadEventEnd};
}
"""

# Brings the phrase's line to the middle of the view if any of it is outside, as a person scrolls.
SCROLL_TO = """
(phrase) => {
  const line = Array.from(document.querySelectorAll('#article-text p[data-start]')).find((p) => p.textContent.includes(phrase));
  const r = line.getBoundingClientRect();
  if (r.top < 0 || r.bottom > innerHeight) line.scrollIntoView({block: 'center'});
  const w = line.closest('.text-window');
  return w ? w.id : null;
}
"""


def plan(text: str, sentences: int) -> list[dict]:
    """What the analyst marks in one article, in order: each span's phrase, label key, and (for a
    quote) the phrase of the Source it is linked to. Every phrase is its first occurrence in the
    text (the drag finds a phrase by its first occurrence) and unique in the plan."""
    steps, used = [], set()

    def first(phrase, at):
        return phrase not in used and text.index(phrase) == at

    for match in SENTENCE.finditer(text):
        if len(steps) >= 3 * sentences:
            break
        speaker, quote, tail = match.group("speaker"), match.group("quote"), match.group("tail")
        if not (first(speaker, match.start("speaker")) and first(quote, match.start("quote"))
                and first(tail, match.start("tail"))) or len({speaker, quote, tail}) < 3:
            continue
        used |= {speaker, quote, tail}
        steps += [{"phrase": speaker, "key": "s"}, {"phrase": quote, "key": "q", "link_to": speaker},
                  {"phrase": tail, "key": "c"}]
    arabic = ARABIC_SENTENCE.search(text)
    if arabic and first(arabic.group(), arabic.start()):
        steps.append({"phrase": arabic.group(), "key": "c"})
    return steps


def build(articles: int, seed: int):
    from django.contrib.auth import get_user_model

    from annotator.corpus.models import Article
    from annotator.corpus.text import normalise, sha256
    from annotator.labelling.models import Annotation
    from annotator.projects.models import Membership, Project
    from annotator.projects.services import project_create
    from bench.workload import articles as workload

    for old in Project.objects.filter(name="bench-analyst-day"):
        Annotation.objects.filter(article__project=old).delete()
        old.delete()
    project = project_create(name="bench-analyst-day")
    user, _ = get_user_model().objects.get_or_create(username="bench-day-analyst")
    user.set_password(PASSWORD)
    user.save()
    Membership.objects.create(project=project, user=user, role=Membership.Role.ANALYST)
    for row in workload(articles, analysts=0, seed=seed):
        text = normalise(row["text"])
        Article.objects.create(project=project, title=row["title"], text=text, sha256=sha256(text),
                               source=row["source"], language="en")
    return project, user


class Analyst:
    """The person at the page: every key press and click goes through here and is counted."""

    def __init__(self, page):
        self.page = page
        self.keys = 0
        self.clicks = 0

    def press(self, key):
        self.keys += 1
        self.page.keyboard.press(key)

    def click(self, locator):
        self.clicks += 1
        locator.click()

    def choose(self, select, value=None, label=None):
        # Open the list and pick an option: two clicks for a person.
        self.clicks += 2
        select.select_option(value=value, label=label)


def label(analyst, step, known_ids):
    """Drag over the phrase and press the label key; returns the new span's id and the times."""
    from tests.browser.helpers import select_phrase

    page = analyst.page
    window = page.evaluate(SCROLL_TO, step["phrase"])
    if window:  # a window of the text that scrolled into view loads its highlights: wait for them
        page.wait_for_selector(f"#{window}:not([hx-get])", state="attached")
    selected = select_phrase(page, step["phrase"])
    assert selected.strip() == step["phrase"], (selected, step["phrase"])
    page.evaluate(ARM_KEY, known_ids)
    analyst.press(step["key"])
    page.wait_for_function("() => window.__bench.frame !== undefined")
    timing = page.evaluate("() => window.__bench")
    parts = {"before_request_ms": timing["sent"] - timing["start"], "request_ms": timing["answered"] - timing["sent"],
             "server_wait_ms": timing["waited"], "after_answer_ms": timing["end"] - timing["answered"]}
    return int(timing["span"]), timing["end"] - timing["start"], timing["frame"] - timing["start"], parts


def day(page, project, user, base) -> dict:
    from annotator.labelling.models import Annotation, Relation, Span

    results = {"key_ms": [], "frame_ms": [], "before_request_ms": [], "request_ms": [], "server_wait_ms": [],
               "after_answer_ms": [], "page_ms": [], "load_ms": [], "answer_ms": [], "navigation_ms": [],
               "server_ms": [], "span_actions": [], "article_actions": [], "spans": 0, "links": 0, "articles": 0}
    page.goto(f"{base}/p/{project.id}/")
    page.get_by_role("link", name="Label next article").click()
    page.wait_for_selector("#article-text")
    analyst = Analyst(page)
    while True:
        article_id = int(re.search(r"/a/(\d+)/", page.url).group(1))
        made = {}
        for step in plan_for(article_id):
            before = analyst.keys + analyst.clicks
            known = list(Span.objects.filter(annotation__annotator=user).values_list("id", flat=True))
            span_id, key_ms, frame_ms, parts = label(analyst, step, known)
            results["key_ms"].append(key_ms)
            results["frame_ms"].append(frame_ms)
            for name, value in parts.items():
                results[name].append(value)
            made[step["phrase"]] = span_id
            results["spans"] += 1
            if "link_to" in step:
                # The new quote's editor is open beside the text, its speaker link offering the spans near it.
                link = page.locator("#span-editor form", has=page.get_by_role("button", name="Link", exact=True))
                analyst.choose(link.get_by_role("combobox"), str(made[step["link_to"]]))
                analyst.click(link.get_by_role("button", name="Link", exact=True))
                page.locator("#span-notice", has_text="Linked:").wait_for()
                results["links"] += 1
            results["span_actions"].append(analyst.keys + analyst.clicks - before)
        before = analyst.keys + analyst.clicks
        labels = page.locator("#document-labels")
        analyst.click(labels.get_by_label("Armenia"))
        analyst.choose(labels.get_by_label("Toward the West"), label="critical")
        # A person glances at the status line before moving on; it says the choice is saved.
        labels.get_by_text("Saved at").wait_for()
        page.wait_for_function("() => !document.querySelector('#unsaved:not([hidden])')")
        page.evaluate(ARM_SUBMIT)
        url = page.url
        analyst.press("Shift+Enter")
        page.wait_for_url(lambda new: new != url)
        page.wait_for_load_state("load")
        results["article_actions"].append(analyst.keys + analyst.clicks - before)
        results["articles"] += 1
        if "/a/" not in page.url:  # "all done"
            break
        page.wait_for_function("() => performance.getEntriesByType('navigation')[0].loadEventEnd > 0")
        t = page.evaluate(ARRIVED)
        results["page_ms"].append(t["dcl"] - t["key"])
        results["load_ms"].append(t["load"] - t["key"])
        results["answer_ms"].append(t["answer"] - t["key"])
        results["navigation_ms"].append(t["dcl"] - t["start"])
        results["server_ms"].append(t["server"])
    # What the database holds must be what the analyst made.
    annotations = Annotation.objects.filter(article__project=project, annotator=user)
    assert annotations.filter(status=Annotation.Status.SUBMITTED).count() == results["articles"]
    assert Span.objects.filter(annotation__in=annotations).count() == results["spans"]
    assert Relation.objects.filter(annotation__in=annotations).count() == results["links"]
    assert all(a.topics.count() == 1 and a.stances.count() == 1 for a in annotations)
    return results


PLANS: dict[int, list[dict]] = {}


def plan_for(article_id: int) -> list[dict]:
    return PLANS[article_id]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=20)
    parser.add_argument("--runs", type=int, default=1, help="days, each on a fresh project")
    parser.add_argument("--sentences", type=int, default=2, help="English sentences marked per article")
    parser.add_argument("--port", type=int, default=8150)
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
            project, user = build(args.articles, seed=run + 1)
            PLANS.clear()
            for article in project.articles.all():
                PLANS[article.id] = plan(article.text, args.sentences)
            with logged_in_page(browser, base, user.username, PASSWORD) as (page, errors):
                started = time.monotonic()
                result = day(page, project, user, base)
                result["seconds"] = time.monotonic() - started
                result["errors"] = errors
                runs.append(result)
            print(f"run {run + 1}: {result['articles']} articles, {result['spans']} spans, {result['links']} links "
                  f"in {result['seconds']:.0f} s; console errors: {len(errors)}", flush=True)
        browser.close()
    print(f"load average after: {load_average()}")
    report(runs)


def report(runs: list[dict]) -> None:
    def joined(name):
        return [v for r in runs for v in r[name]]

    def row(name, values, target=""):
        print(f"{name:<52} {median(values):>8.1f} {percentile(values, 95):>8.1f} {max(values):>8.1f} {len(values):>6}"
              f"  {target}")

    span_actions = joined("span_actions")
    print()
    print(f"{'':<52} {'median':>8} {'p95':>8} {'max':>8} {'n':>6}  target")
    row("keys + clicks per span (after the drag)", span_actions, "median 1")
    row("keys + clicks per article (topic, stance, submit)", joined("article_actions"))
    row("label key → new <mark> in the text, ms", joined("key_ms"), "p95 < 100")
    row("label key → next frame after it, ms", joined("frame_ms"))
    row("  of which: key → the save's request sent, ms", joined("before_request_ms"))
    row("  of which: the request, sent to answered, ms", joined("request_ms"))
    row("    of which: waiting for the server, ms", joined("server_wait_ms"))
    row("  of which: answer → <mark> in the text, ms", joined("after_answer_ms"))
    row("Submit and next → next page DOMContentLoaded, ms", joined("page_ms"), "p95 < 300")
    row("Submit and next → next page load event, ms", joined("load_ms"))
    row("  of which: the submit's answer, ms", joined("answer_ms"))
    row("  of which: server time of the next page, ms", joined("server_ms"))
    row("  of which: next page navigation to DCL, ms", joined("navigation_ms"))
    print(f"mean keys + clicks per span: {statistics.mean(span_actions):.2f}; "
          f"spans {sum(r['spans'] for r in runs)}, links {sum(r['links'] for r in runs)}, "
          f"articles {sum(r['articles'] for r in runs)}, minutes per day "
          f"{' '.join(f'{r['seconds'] / 60:.1f}' for r in runs)}, console errors {sum(len(r['errors']) for r in runs)}")


if __name__ == "__main__":
    main()
