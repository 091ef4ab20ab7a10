"""The learning curve as numbers an SVG template draws: F1 (0–1) against training size."""

import math

WIDTH, HEIGHT = 420, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 12, 36


def curve_chart(curve: list[dict]) -> dict | None:
    """Points placed on a log scale of sizes (10 to 10,000 read evenly), with axis ticks."""
    points = [p for p in curve if p.get("f1") is not None]
    if not points:
        return None
    low, high = math.log10(points[0]["size"]), math.log10(points[-1]["size"])
    span = (high - low) or 1.0
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(size):
        return round(LEFT + (math.log10(size) - low) / span * inner_w, 1) if high > low else LEFT + inner_w / 2

    def y(f1):
        return round(TOP + (1 - f1) * inner_h, 1)

    placed = [{"x": x(p["size"]), "y": y(p["f1"]), "size": p["size"], "f1": p["f1"]} for p in points]
    return {
        "width": WIDTH, "height": HEIGHT, "left": LEFT, "right": WIDTH - RIGHT, "top": TOP, "bottom": HEIGHT - BOTTOM,
        "points": placed,
        "polyline": " ".join(f"{p['x']},{p['y']}" for p in placed),
        "y_ticks": [{"y": y(v), "label": f"{v:g}"} for v in (0.0, 0.25, 0.5, 0.75, 1.0)],
        "label_y": HEIGHT - 4,
    }
