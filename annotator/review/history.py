"""A `Change`'s before and after states as lines a person can read side by side."""

from dataclasses import dataclass


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


def state_lines(before, after) -> tuple[list[Line], list[Line]]:
    """One line per key of each state, marked where the two states differ."""
    def lines(state, other):
        if state is None:
            return []
        if not isinstance(state, dict):
            return [Line(key="", value=readable(state), changed=state != other)]
        other = other if isinstance(other, dict) else {}
        return [Line(key=key, value=readable(value), changed=other.get(key) != value) for key, value in state.items()]

    return lines(before, after), lines(after, before)
