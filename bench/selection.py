"""Benchmark 5: in Chromium, from the key press that labels a selection to the highlight shown.

    python -m bench.selection --runs 20

The app runs under gunicorn (DEBUG off) on the 50 KB / 500-span article of bench.labelling_page.
Each run drags the mouse over a phrase (as the browser tests do), then presses the label's
hotkey; a MutationObserver notes the moment the new <mark> is in the page. Measured in the page
with performance.now(), so it includes the request, the server and the swap.
"""

import argparse
import os
import socket
import subprocess
import sys
import time

from bench.common import ROOT, median, percentile, setup_django

ARM = """
() => {
  const before = document.querySelector('#article-text mark.editing');
  const previous = before ? before.dataset.span : null;
  window.__timing = {};
  document.addEventListener('keydown', () => { window.__timing.start = performance.now(); }, {capture: true, once: true});
  const observer = new MutationObserver(() => {
    const mark = document.querySelector('#article-text mark.editing');
    if (window.__timing.start && mark && mark.dataset.span !== previous) {
      window.__timing.end = performance.now();
      observer.disconnect();
    }
  });
  observer.observe(document.body, {childList: true, subtree: true});
}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    setup_django()
    from django.core.management import call_command
    from playwright.sync_api import sync_playwright

    from bench.labelling_page import build
    from tests.browser.helpers import select_phrase

    call_command("collectstatic", interactive=False, verbosity=0)
    project, article, user = build()
    user.set_password("bench-selection-1")
    user.save()
    words = article.text.split("\n")[3].split(" ")
    phrases = [" ".join(words[i : i + 3]) for i in range(0, 3 * args.runs, 3)]

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "ALLOWED_HOSTS": "127.0.0.1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "annotator.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--log-level", "warning"], cwd=ROOT, env=env,
    )
    times = []
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            page = browser.new_page(base_url=f"http://127.0.0.1:{port}")
            page.set_default_timeout(15_000)
            page.goto("/accounts/login/")
            page.get_by_label("Username").fill(user.username)
            page.get_by_label("Password").fill("bench-selection-1")
            page.get_by_role("button", name="Log in").click()
            page.goto(f"/p/{project.id}/a/{article.id}/")
            page.wait_for_selector("#article-text")
            for phrase in phrases:
                select_phrase(page, phrase)
                page.evaluate(ARM)
                page.keyboard.press("c")
                page.wait_for_function("() => window.__timing.end")
                times.append(page.evaluate("() => window.__timing.end - window.__timing.start"))
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"article: {len(article.text)} characters, {article.annotations.get().spans.count()} spans at the end")
    print(f"key press → highlight shown, ms: median {median(times):.0f}, p95 {percentile(times, 95):.0f}, runs {len(times)}")


if __name__ == "__main__":
    main()
