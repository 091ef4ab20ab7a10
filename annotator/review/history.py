"""A `Change` as the history page shows it: one line that says what changed, and its before and
after states as lines a person can read side by side."""

from dataclasses import dataclass

from django.template.defaultfilters import truncatechars
from django.utils.html import format_html

SUBJECT_NAMES = {"span": "span", "relation": "link", "labels": "topics and stance", "annotation": "annotation"}
# A link's state keeps its spans' ids for the record; a person reads the spans' text beside them.
HIDDEN_KEYS = {"relation": {"source", "target"}}


@dataclass
class Line:
    key: str
    value: str
    changed: bool


def readable(value) -> str:
    """A stored JSON value as plain text: lists joined by commas, dicts as "key: value" pairs."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, dict):
        return "; ".join(f"{key}: {readable(item)}" for key, item in value.items())
    if isinstance(value, list):
        return ", ".join(readable(item) for item in value)
    return str(value)


def state_lines(before, after, subject="") -> tuple[list[Line], list[Line]]:
    """One line per key of each state, marked where the two states differ."""
    hidden = HIDDEN_KEYS.get(subject, set())

    def lines(state, other):
        if state is None:
            return []
        if not isinstance(state, dict):
            return [Line(key="", value=readable(state), changed=state != other)]
        other = other if isinstance(other, dict) else {}
        return [
            Line(key=key, value=readable(value), changed=other.get(key) != value)
            for key, value in state.items() if key not in hidden
        ]

    return lines(before, after), lines(after, before)


def summary(change) -> str:
    """What the change was about, in a few words: the span's label and text, the link's two spans'
    text (never their ids), with the user's text isolated for bidi."""
    state = change.after if isinstance(change.after, dict) else change.before
    state = state if isinstance(state, dict) else {}
    if change.subject == "span" and "text" in state:
        return format_html(
            "<bdi>{}</bdi> “<bdi>{}</bdi>”", state.get("label", ""), truncatechars(state["text"], 60)
        )
    if change.subject == "relation" and "source_text" in state:
        return format_html(
            "“<bdi>{}</bdi>” → <bdi>{}</bdi> → “<bdi>{}</bdi>”", truncatechars(state["source_text"], 40),
            state.get("type", ""), truncatechars(state.get("target_text", ""), 40),
        )
    if change.subject == "annotation" and "status" in state:
        return format_html("status: {}", state["status"])
    return ""
