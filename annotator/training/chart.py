"""The learning curve as numbers an SVG template draws: F1 (0–1) against training size, one line
for the topics and one for the spans (whose points may stop at a smaller size: their sample)."""

import math

WIDTH, HEIGHT = 420, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 12, 36
SERIES = (("f1", "topics"), ("span_f1", "spans"))


def curve_chart(curve: list[dict]) -> dict | None:
    """Points placed on a log scale of sizes (10 to 10,000 read evenly), with axis ticks."""
    sizes = [p["size"] for p in curve if any(p.get(key) is not None for key, _ in SERIES)]
    if not sizes:
        return None
    low, high = math.log10(min(sizes)), math.log10(max(sizes))
    span = (high - low) or 1.0
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(size):
        return round(LEFT + (math.log10(size) - low) / span * inner_w, 1) if high > low else LEFT + inner_w / 2

    def y(f1):
        return round(TOP + (1 - f1) * inner_h, 1)

    series = []
    for key, name in SERIES:
        placed = [{"x": x(p["size"]), "y": y(p[key]), "size": p["size"], "f1": p[key]}
                  for p in curve if p.get(key) is not None]
        for point in placed:  # a square's corner, for the spans' marks
            point["corner_x"], point["corner_y"] = round(point["x"] - 3, 1), round(point["y"] - 3, 1)
        if placed:
            series.append({"name": name, "points": placed,
                           "polyline": " ".join(f"{p['x']},{p['y']}" for p in placed)})
    return {
        "width": WIDTH, "height": HEIGHT, "left": LEFT, "right": WIDTH - RIGHT, "top": TOP, "bottom": HEIGHT - BOTTOM,
        "series": series,
        "sizes": [{"x": x(size), "size": size} for size in sizes],
        "y_ticks": [{"y": y(v), "label": f"{v:g}"} for v in (0.0, 0.25, 0.5, 0.75, 1.0)],
        "label_y": HEIGHT - 4,
    }
