"""Hostile values, and the check that a page shows them as text and never as markup."""

from html.parser import HTMLParser

from django.utils.html import escape

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
TEMPLATE = "{{ 7|add:1 }}"
TEMPLATE_TAG = "{% csrf_token %}"
JS_URL = "javascript:alert(1)"

# Every field gets every payload when it is long enough; a short field gets a pair.
FULL = SCRIPT + IMG + TEMPLATE + TEMPLATE_TAG
SHORT_A = SCRIPT + TEMPLATE  # 38 characters
SHORT_B = IMG + TEMPLATE_TAG  # 46 characters


def hostile(prefix: str, max_length: int | None = None) -> str:
    """A distinct hostile value: `prefix` and as many payloads as fit in `max_length`."""
    for payload in (FULL, SHORT_A, SHORT_B):
        value = prefix + payload
        if max_length is None or len(value) <= max_length:
            return value
    raise ValueError(f"no payload fits in {max_length} characters")


SCRIPT_SCHEMES = ("javascript:", "vbscript:", "data:text/html")
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background"}


class MarkupParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.script_text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))
        self._in_script = tag == "script"

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.script_text.append(data)


def problems(html: str) -> list[str]:
    """Every way the page lets a payload act: empty when everything hostile is inert text."""
    found = []
    lowered = html.lower()
    if "<script>alert" in lowered:
        found.append("a raw <script>alert")
    if "<img src=x" in lowered:
        found.append("a raw <img src=x")
    parser = MarkupParser()
    parser.feed(html)
    parser.close()
    for tag, attrs in parser.tags:
        for name, value in attrs:
            if name.startswith("on"):
                found.append(f"an event handler attribute {name}= on <{tag}>")
            scheme = "".join((value or "").split()).lower()
            if name in URL_ATTRIBUTES and scheme.startswith(SCRIPT_SCHEMES):
                found.append(f"a script URL in <{tag} {name}={value!r}>")
        if tag == "img" and dict(attrs).get("src") == "x":
            found.append("an <img src=x> element")
    for text in parser.script_text:
        if "alert(1)" in text:
            found.append("alert(1) inside a <script> element")
    return found


def assert_inert(html: str, *, shows: tuple[str, ...] = ()) -> None:
    """No payload is live, and each value in `shows` appears exactly as typed, escaped.

    Finding the escaped value whole also proves `{{ 7|add:1 }}` and `{% csrf_token %}` were not
    evaluated: a page that ran them would hold `8` or a hidden input in their place instead.
    """
    assert problems(html) == []
    for value in shows:
        assert escape(value) in html, f"{value!r} is not shown escaped"
    if shows:
        assert "&lt;script&gt;" in html or "&quot;&gt;&lt;img" in html
