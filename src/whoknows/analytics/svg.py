"""Inline SVG charts for the HTML report, generated here (no JavaScript, no CDN: the report opens offline)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from whoknows.analytics.report import Flow

BLUE, RED, GREY, INK = "#3b6ea8", "#c0392b", "#9aa5b1", "#1f2933"


def _svg(width: int, height: int, body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'style="max-width:100%;height:auto" role="img" aria-label="{escape(title)}" '
        'font-family="system-ui, sans-serif" font-size="12">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def network(nodes: Sequence[tuple[str, int]], flows: Sequence[Flow], silos: set[str], *, size: int = 560) -> str:
    """Departments on a circle (area ∝ active people, red = silo); a line per pair, width ∝ help exchanged."""
    if not nodes:
        return _svg(size, 60, [f'<text x="10" y="30" fill="{GREY}">no departments to show</text>'], "network")
    width = size + 300  # room for the labels left and right of the ring
    cx, cy = width / 2, size / 2
    ring = size / 2 - 70
    pos = {
        name: (cx + ring * math.cos(2 * math.pi * i / len(nodes) - math.pi / 2),
               cy + ring * math.sin(2 * math.pi * i / len(nodes) - math.pi / 2))
        for i, (name, _) in enumerate(nodes)
    }  # fmt: skip
    pair: dict[tuple[str, str], float] = {}
    for f in flows:
        if f.source != f.target and f.source in pos and f.target in pos:
            key = (min(f.source, f.target), max(f.source, f.target))
            pair[key] = pair.get(key, 0.0) + f.help
    top = max(pair.values(), default=1.0)
    body = []
    for (a, b), w in sorted(pair.items(), key=lambda kv: kv[1]):
        (x1, y1), (x2, y2) = pos[a], pos[b]
        stroke = 0.5 + 11 * w / top
        body.append(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{BLUE}" '
            f'stroke-opacity="{0.15 + 0.55 * w / top:.2f}" stroke-width="{stroke:.1f}"><title>{escape(a)} ↔ '
            f"{escape(b)}: {w:.0f}</title></line>"
        )
    biggest = max((n for _, n in nodes), default=1) or 1
    for name, n in nodes:
        x, y = pos[name]
        r = 8 + 22 * math.sqrt(n / biggest)
        colour = RED if name in silos else BLUE
        body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{colour}" stroke="white" stroke-width="2">'
                    f"<title>{escape(name)}: {n} active people</title></circle>")  # fmt: skip
        dx, dy = x - cx, y - cy
        norm = math.hypot(dx, dy) or 1
        lx, ly = x + dx / norm * (r + 8), y + dy / norm * (r + 8) + 4
        anchor = "start" if dx > 5 else "end" if dx < -5 else "middle"
        label = escape(name) + (" (silo)" if name in silos else "")
        body.append(f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="{anchor}" fill="{INK}">{label}</text>')
    return _svg(width, size, body, "Help between departments")


def bars(items: Sequence[tuple[str, float]], *, width: int = 560, height: int = 220, colour: str = BLUE,
         title: str = "", rotate: bool = False) -> str:  # fmt: skip
    """A vertical bar chart of (label, value)."""
    if not items:
        return _svg(width, 40, [f'<text x="10" y="25" fill="{GREY}">no data</text>'], title)
    left, bottom, top_pad = 40, 60 if rotate else 30, 15
    plot_h = height - bottom - top_pad
    step = (width - left - 10) / len(items)
    peak = max(v for _, v in items) or 1
    body = [f'<line x1="{left}" y1="{height - bottom}" x2="{width - 5}" y2="{height - bottom}" stroke="{GREY}"/>']
    for frac in (0.5, 1.0):
        y = height - bottom - plot_h * frac
        body.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" fill="{GREY}">{peak * frac:.0f}</text>')
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 5}" y2="{y:.1f}" stroke="#e4e7eb"/>')
    stride = math.ceil(len(items) / 14)  # at most ~14 axis labels
    for i, (label, v) in enumerate(items):
        h = plot_h * v / peak
        x = left + i * step + step * 0.15
        y = height - bottom - h
        body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{step * 0.7:.1f}" height="{h:.1f}" fill="{colour}">'
                    f"<title>{escape(label)}: {v:g}</title></rect>")  # fmt: skip
        tx, ty = x + step * 0.35, height - bottom + 14
        if i % stride:
            continue
        if rotate:
            body.append(f'<text x="{tx:.1f}" y="{ty:.1f}" text-anchor="end" fill="{INK}" font-size="10" '
                        f'transform="rotate(-35 {tx:.1f} {ty:.1f})">{escape(label)}</text>')  # fmt: skip
        else:
            body.append(f'<text x="{tx:.1f}" y="{ty:.1f}" text-anchor="middle" fill="{INK}" font-size="10">'
                        f"{escape(label)}</text>")  # fmt: skip
    return _svg(width, height, body, title)


def line(points: Sequence[tuple[str, float | None]], *, width: int = 560, height: int = 200, lo: float = 0,
         hi: float = 100, title: str = "") -> str:  # fmt: skip
    """A line chart of (label, value) with a fixed y range; ``None`` values are gaps."""
    if not points:
        return _svg(width, 40, [f'<text x="10" y="25" fill="{GREY}">no data</text>'], title)
    left, bottom, top_pad = 40, 30, 15
    plot_h = height - bottom - top_pad
    step = (width - left - 20) / max(1, len(points) - 1)
    body = []
    for tick in (lo, (lo + hi) / 2, hi):
        y = height - bottom - plot_h * (tick - lo) / (hi - lo)
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 5}" y2="{y:.1f}" stroke="#e4e7eb"/>')
        body.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" fill="{GREY}">{tick:g}</text>')
    coords = []
    stride = math.ceil(len(points) / 14)
    for i, (label, v) in enumerate(points):
        x = left + i * step if len(points) > 1 else left + (width - left) / 2
        if i % stride == 0:
            body.append(f'<text x="{x:.1f}" y="{height - 10}" text-anchor="middle" fill="{INK}" font-size="10">'
                        f"{escape(label)}</text>")  # fmt: skip
        if v is None:
            continue
        y = height - bottom - plot_h * (min(hi, max(lo, v)) - lo) / (hi - lo)
        coords.append(f"{x:.1f},{y:.1f}")
        body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{BLUE}"><title>{escape(label)}: {v:.1f}'
                    "</title></circle>")  # fmt: skip
    if len(coords) > 1:
        body.insert(0, f'<polyline points="{" ".join(coords)}" fill="none" stroke="{BLUE}" stroke-width="2"/>')
    return _svg(width, height, body, title)


def meter(value: float, peak: float, *, width: int = 120, colour: str = BLUE) -> str:
    """A small inline horizontal bar (for table cells)."""
    w = 0 if peak <= 0 else width * min(1.0, value / peak)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="10" aria-hidden="true">'
            f'<rect width="{width}" height="10" fill="#eef1f4"/>'
            f'<rect width="{w:.1f}" height="10" fill="{colour}"/></svg>')  # fmt: skip
