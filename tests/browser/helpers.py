"""What a person does in the browser: log in, and select a phrase with a real mouse drag; and
what every page must pass: axe-core's accessibility rules."""

from annotator.corpus.models import Article
from annotator.corpus.text import normalise, sha256


def log_in(page, username, password="pw"):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def make_article(project, text, title="", language=""):
    text = normalise(text)
    return Article.objects.create(
        project=project, title=title or text.splitlines()[0][:200], text=text, sha256=sha256(text), language=language
    )


# Finds the phrase's first and last characters with DOM Ranges and returns the points a person
# would press and release the mouse at: the start edge of the first character (its right edge
# in a right-to-left paragraph) and the end edge of the last.
_FIND_PHRASE = """
(phrase) => {
  const root = document.getElementById('article-text');
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const nodes = []; let all = '';
  while (walker.nextNode()) { nodes.push([walker.currentNode, all.length]); all += walker.currentNode.data; }
  const at = all.indexOf(phrase);
  if (at < 0) throw new Error('phrase not on the page: ' + phrase);
  const locate = (i) => { for (let k = nodes.length - 1; k >= 0; k--) if (nodes[k][1] <= i) return [nodes[k][0], i - nodes[k][1]]; };
  const chars = Array.from(phrase);
  const lastLen = chars[chars.length - 1].length;
  const firstLen = chars[0].length;
  const rectOf = (i, len) => { const [n, o] = locate(i); const r = document.createRange(); r.setStart(n, o); r.setEnd(n, o + len); const rs = r.getClientRects(); return rs[0]; };
  const first = rectOf(at, firstLen), last = rectOf(at + phrase.length - lastLen, lastLen);
  const [node] = locate(at);
  const rtl = getComputedStyle(node.parentElement.closest('p')).direction === 'rtl';
  const y1 = first.top + first.height / 2, y2 = last.top + last.height / 2;
  return rtl ? {x1: first.right - 1, y1, x2: last.left + 1, y2} : {x1: first.left + 1, y1, x2: last.right - 1, y2};
}
"""


def select_phrase(page, phrase):
    points = page.evaluate(_FIND_PHRASE, phrase)
    page.mouse.move(points["x1"], points["y1"])
    page.mouse.down()
    page.mouse.move((points["x1"] + points["x2"]) / 2, (points["y1"] + points["y2"]) / 2, steps=5)
    page.mouse.move(points["x2"], points["y2"], steps=5)
    page.mouse.up()
    return page.evaluate("() => window.getSelection().toString()")


# Impacts that fail a page; "moderate" and "minor" ones are advice.
AXE_FAILING = ("serious", "critical")
_AXE_RUN = """
async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
  }));
}
"""


def axe_violations(page) -> list[dict]:
    """axe-core's serious and critical violations on the page as it is now (the `page` fixture loads axe)."""
    return [v for v in page.evaluate(_AXE_RUN) if v["impact"] in AXE_FAILING]


def axe_check(page) -> None:
    violations = axe_violations(page)
    assert violations == [], f"accessibility violations on {page.url}: {violations}"
