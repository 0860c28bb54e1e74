"""The link chart of a series, drawn on the server as SVG (no script, no library).

Reports are dots; links are lines between them, solid when a caseworker confirmed them and
dashed while they are only suggested. So that 100 reports read at a glance rather than as
a hairball, reports are grouped by what links them most (the same board thread, the same
person named, ...): each group is a small ring with a caption saying what it shares and
how many reports it holds, and the groups sit on one large ring. Lines between groups are
labelled with their kind of reason; every line and dot carries its full reasons or id
as a tooltip (``<title>``), and the page lists the same facts as text below the chart.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from chorus.cases.worklist import reason_kind

SPACING = 18.0  # px along a group's ring per report
GAP = 70.0  # px between groups on the large ring
LABEL_ALL_BELOW = 30  # report ids are written beside dots when there are fewer reports
CONFIRMED, SUGGESTED = "#1d4ed8", "#6b7280"
MEMBER, OUTSIDE = "#0f766e", "#ffffff"


@dataclass(frozen=True)
class Edge:
    a: str
    b: str
    reasons: Sequence[str]
    confirmed: bool


def _caption(reason: str) -> str:
    text = reason.removeprefix("both report ").removeprefix("both name ")
    return text if len(text) <= 60 else text[:57] + "..."


def _groups(nodes: Sequence[str], edges: Sequence[Edge]) -> list[tuple[str, list[str]]]:
    """Each report goes to the group of the reason most of its links give."""
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for edge in edges:
        main = edge.reasons[0] if edge.reasons else "linked"
        votes[edge.a][main] += 1
        votes[edge.b][main] += 1
    groups: dict[str, list[str]] = defaultdict(list)
    for node in nodes:
        if votes[node]:
            best = max(sorted(votes[node]), key=lambda r: votes[node][r])
            groups[best].append(node)
        else:
            groups["not linked"].append(node)
    return sorted(((k, sorted(v)) for k, v in groups.items()), key=lambda g: (-len(g[1]), g[0]))


def _ring(n: int) -> float:
    return 0.0 if n == 1 else max(26.0, n * SPACING / (2 * math.pi))


def _hub(group: list[str], degree: Counter[str]) -> str | None:
    """The report most of a group links through (the first to cite a thread, say)."""
    best = max(group, key=lambda n: (degree[n], n))
    return best if len(group) >= 4 and degree[best] >= len(group) / 2 else None


def _layout(
    groups: list[tuple[str, list[str]]], degree: Counter[str]
) -> tuple[dict[str, tuple[float, float]], list[tuple[float, float, float, str, int]]]:
    """Dot positions, and each group's centre, ring radius, reason and size. A group's hub
    sits in the middle of its ring, so its links read as the spokes of a wheel."""
    hubs = [_hub(g, degree) for _, g in groups]
    radii = [_ring(len(g) - (h is not None)) for (_, g), h in zip(groups, hubs, strict=True)]
    widths = [2 * r + GAP for r in radii]
    big = 0.0 if len(groups) == 1 else max(sum(widths) / (2 * math.pi), max(radii) + GAP)
    pos: dict[str, tuple[float, float]] = {}
    rings: list[tuple[float, float, float, str, int]] = []
    angle = -math.pi / 2
    for (reason, group), hub, radius, width in zip(groups, hubs, radii, widths, strict=True):
        share = width / sum(widths) * 2 * math.pi
        cx, cy = big * math.cos(angle + share / 2), big * math.sin(angle + share / 2)
        angle += share
        ring = [n for n in group if n != hub]
        if hub is not None:
            pos[hub] = (cx, cy)
        for i, node in enumerate(ring):
            t = 2 * math.pi * i / len(ring) - math.pi / 2
            pos[node] = (cx + radius * math.cos(t), cy + radius * math.sin(t))
        rings.append((cx, cy, radius, reason, len(group)))
    return pos, rings


def render(nodes: Sequence[str], members: set[str], edges: Sequence[Edge], title: str) -> str:
    """The chart as an SVG document (a string, every text escaped)."""
    groups = _groups(nodes, edges)
    degree: Counter[str] = Counter(n for e in edges for n in (e.a, e.b))
    raw, rings = _layout(groups, degree)
    # Fit the drawing: dots, and captions under each ring (up to ~170 px wide, 2 lines).
    xs = [x for x, _ in raw.values()] + [cx + d for cx, _, _, _, _ in rings for d in (-170, 170)]
    ys = [y for _, y in raw.values()] + [cy + r + 40 for cx, cy, r, _, _ in rings]
    left, top = min(xs) - 30, min(ys) - 30
    width = max(max(xs) - left + 30, 680.0)
    left -= (width - (max(xs) - left + 30)) / 2  # centre a small drawing under the legend
    height = max(ys) - top + 30 + 40

    def at(x: float, y: float) -> tuple[float, float]:
        return x - left, y - top + 40  # 40 px at the top for the legend

    pos = {node: at(*xy) for node, xy in raw.items()}
    group_of = {node: reason for reason, group in groups for node in group}
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="100%" role="img" aria-labelledby="chart-title chart-desc" class="link-chart">',
        f'<title id="chart-title">{escape(title)}</title>',
        f'<desc id="chart-desc">{len(nodes)} reports in {len(groups)} groups; '
        f"{sum(e.confirmed for e in edges)} confirmed and "
        f"{sum(not e.confirmed for e in edges)} suggested links.</desc>",
        '<rect width="100%" height="100%" fill="#ffffff"/>',
        _legend(),
    ]
    between: dict[tuple[str, str], set[str]] = defaultdict(set)
    crossing: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for edge in edges:
        if edge.a not in pos or edge.b not in pos:
            continue
        (x1, y1), (x2, y2) = pos[edge.a], pos[edge.b]
        colour, dash = (CONFIRMED, "") if edge.confirmed else (SUGGESTED, ' stroke-dasharray="5 4"')
        state = "confirmed" if edge.confirmed else "suggested"
        tip = escape(f"{edge.a} – {edge.b} ({state}): " + "; ".join(edge.reasons))
        out.append(
            f'<line class="link {state}" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" '
            f'y2="{y2:.1f}" stroke="{colour}" stroke-width="{2 if edge.confirmed else 1.2}"'
            f"{dash}><title>{tip}</title></line>"
        )
        ga, gb = sorted((group_of[edge.a], group_of[edge.b]))
        if ga != gb:
            between[(ga, gb)].update(reason_kind(r) for r in edge.reasons)
            crossing[(ga, gb)].append(((x1 + x2) / 2, (y1 + y2) / 2))
    for pair, kinds in sorted(between.items()):  # once per pair of groups: what links them
        mx = sum(x for x, _ in crossing[pair]) / len(crossing[pair])
        my = sum(y for _, y in crossing[pair]) / len(crossing[pair])
        count = len(crossing[pair])
        text = f"{', '.join(sorted(kinds))} · {count} link{'s' if count != 1 else ''}"
        out.append(
            f'<text class="between" x="{mx:.1f}" y="{my:.1f}" font-size="11" '
            f'text-anchor="middle" fill="#111827" paint-order="stroke" stroke="#ffffff" '
            f'stroke-width="4">{escape(text)}</text>'
        )
    for cx, cy, radius, reason, count in rings:
        x, y = at(cx, cy + radius + 22)
        kind = reason_kind(reason) if reason != "not linked" else "not linked"
        plural = "s" if count != 1 else ""
        out.append(
            f'<text class="group" x="{x:.1f}" y="{y:.1f}" font-size="12" text-anchor="middle" '
            f'font-weight="bold" fill="#111827">{escape(kind)} · {count} report{plural}</text>'
            f'<text x="{x:.1f}" y="{y + 14:.1f}" font-size="10" text-anchor="middle" '
            f'fill="#374151">{escape(_caption(reason))}</text>'
        )
    for node in nodes:
        x, y = pos[node]
        inside = node in members
        fill, stroke = (MEMBER, MEMBER) if inside else (OUTSIDE, SUGGESTED)
        dash = "" if inside else ' stroke-dasharray="2 2"'
        kind = "in this series" if inside else "linked by a suggestion only"
        out.append(
            f'<circle class="report" cx="{x:.1f}" cy="{y:.1f}" r="6" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="1.5"{dash}><title>{escape(node)} ({kind})'
            "</title></circle>"
        )
        if len(nodes) < LABEL_ALL_BELOW:
            out.append(
                f'<text x="{x + 9:.1f}" y="{y + 4:.1f}" font-size="10" fill="#111827">'
                f"{escape(node)}</text>"
            )
    out.append("</svg>")
    return "\n".join(out)


def _legend() -> str:
    return (
        '<g font-size="12" fill="#111827">'
        f'<line x1="10" y1="16" x2="40" y2="16" stroke="{CONFIRMED}" stroke-width="2"/>'
        '<text x="46" y="20">confirmed link</text>'
        f'<line x1="160" y1="16" x2="190" y2="16" stroke="{SUGGESTED}" stroke-width="1.2" '
        'stroke-dasharray="5 4"/><text x="196" y="20">suggested link</text>'
        f'<circle cx="320" cy="16" r="6" fill="{MEMBER}"/>'
        '<text x="332" y="20">report in this series</text>'
        f'<circle cx="490" cy="16" r="6" fill="{OUTSIDE}" stroke="{SUGGESTED}" '
        'stroke-dasharray="2 2"/><text x="502" y="20">linked by a suggestion only</text>'
        "</g>"
    )
