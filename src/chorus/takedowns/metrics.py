"""Takedown metrics: how long removal takes, per recipient and per provider.

- time to removal: from the first notice sent about a copy to the monitor's verified
  removal, in hours; median and p90 (nearest rank), per recipient (whoever was asked) and
  per provider (the site the copy was on, by host name);
- share removed within 48 hours of the first notice;
- re-appearance rate: of the copies removed, the share that came back (a takedown re-opened
  at the same address or at a new one).

Exported as CSV and drawn as an SVG bar chart on the server (no JavaScript).
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from sqlalchemy import select
from sqlalchemy.orm import Session

from chorus.monitor import sightings
from chorus.takedowns import states
from chorus.takedowns.models import Notice, Takedown, TakedownTransition

WITHIN_H = 48.0


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100) of ``values``; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Row:
    group: str  # "recipient" or "provider"
    name: str
    notified: int  # copies notified
    removed: int  # of them, removal verified
    median_h: float | None
    p90_h: float | None
    within_48h: float | None  # share of notified copies removed within 48 h


@dataclass(frozen=True)
class Summary:
    rows: list[Row]
    notified: int
    removed: int
    median_h: float | None
    p90_h: float | None
    within_48h: float | None
    reappearance_rate: float | None


def _row(group: str, name: str, items: list[float | None]) -> Row:
    hours = [h for h in items if h is not None]
    within = sum(1 for h in hours if h <= WITHIN_H)
    return Row(
        group,
        name,
        len(items),
        len(hours),
        percentile(hours, 50),
        percentile(hours, 90),
        within / len(items) if items else None,
    )


def compute(session: Session) -> Summary:
    takedowns = list(session.scalars(select(Takedown).order_by(Takedown.id)))
    first_sent: dict[int, datetime] = {}
    asked: dict[int, set[str]] = defaultdict(set)
    for notice in session.scalars(select(Notice).where(Notice.sent_at.is_not(None))):
        assert notice.sent_at is not None
        if notice.takedown_id not in first_sent or notice.sent_at < first_sent[notice.takedown_id]:
            first_sent[notice.takedown_id] = notice.sent_at
        asked[notice.takedown_id].add(notice.recipient["name"])
    removals = _removals(session)
    per_recipient: dict[str, list[float | None]] = defaultdict(list)
    per_provider: dict[str, list[float | None]] = defaultdict(list)
    overall: list[float | None] = []
    for t in takedowns:
        if t.id not in first_sent:
            continue
        removed_at = removals.get(t.id)
        if t.state == states.CLOSED and removed_at is None:
            continue  # stopped when the survivor's data was deleted: not a removal time
        hours = (
            max(0.0, (removed_at - first_sent[t.id]).total_seconds() / 3600) if removed_at else None
        )
        overall.append(hours)
        for name in asked[t.id]:
            per_recipient[name].append(hours)
        info = sightings.find(session, t.sighting)
        provider = (urlsplit(info.page_url).hostname or "unknown") if info else "unknown"
        per_provider[provider].append(hours)
    rows = [_row("recipient", n, v) for n, v in sorted(per_recipient.items())]
    rows += [_row("provider", n, v) for n, v in sorted(per_provider.items())]
    total = _row("all", "all", overall)
    ever_removed = [t for t in takedowns if t.id in removals]
    came_back = {t.reopened_from for t in takedowns if t.reopened_from}
    came_back |= {t.public_id for t in takedowns if _reopened_in_place(session, t)}
    rate = (
        sum(1 for t in ever_removed if t.public_id in came_back) / len(ever_removed)
        if ever_removed
        else None
    )
    return Summary(
        rows, total.notified, total.removed, total.median_h, total.p90_h, total.within_48h, rate
    )


def _removals(session: Session) -> dict[int, datetime]:
    """When each takedown was first verified removed (kept even if it later came back)."""
    out: dict[int, datetime] = {}
    for row in session.scalars(
        select(TakedownTransition)
        .where(
            TakedownTransition.to_state == states.REMOVED,
            TakedownTransition.subject.like("TD-%"),
        )
        .order_by(TakedownTransition.id)
    ):
        out.setdefault(row.takedown_id, row.at)
    for t in session.scalars(select(Takedown).where(Takedown.removed_at.is_not(None))):
        assert t.removed_at is not None
        out[t.id] = min(out.get(t.id, t.removed_at), t.removed_at)
    return out


def _reopened_in_place(session: Session, takedown: Takedown) -> bool:
    return bool(
        session.scalar(
            select(TakedownTransition.id)
            .where(
                TakedownTransition.takedown_id == takedown.id,
                TakedownTransition.subject == takedown.public_id,
                TakedownTransition.from_state == states.REMOVED,
            )
            .limit(1)
        )
    )


def _fmt(value: float | None, digits: int = 1) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def to_csv(summary: Summary) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "group",
            "name",
            "copies_notified",
            "copies_removed",
            "median_hours_to_removal",
            "p90_hours_to_removal",
            "share_removed_within_48h",
        ]
    )
    for r in summary.rows:
        writer.writerow(
            [
                r.group,
                _safe_cell(r.name),
                r.notified,
                r.removed,
                _fmt(r.median_h),
                _fmt(r.p90_h),
                _fmt(r.within_48h, 3),
            ]
        )
    writer.writerow(
        [
            "all",
            "all",
            summary.notified,
            summary.removed,
            _fmt(summary.median_h),
            _fmt(summary.p90_h),
            _fmt(summary.within_48h, 3),
        ]
    )
    writer.writerow(
        ["all", "reappearance_rate", "", "", "", "", _fmt(summary.reappearance_rate, 3)]
    )
    return out.getvalue()


def _safe_cell(text: str) -> str:
    """No spreadsheet formulas from names a recipient chose (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def to_svg(summary: Summary, group: str = "recipient") -> str:
    """Median hours to removal per recipient (or provider) as bars, p90 as a tick."""
    rows = [r for r in summary.rows if r.group == group]
    width, bar_h, gap, left, top = 640, 22, 10, 200, 50
    height = top + max(1, len(rows)) * (bar_h + gap) + 40
    scale_max = max([r.p90_h or 0 for r in rows] + [WITHIN_H])

    def x(hours: float) -> float:
        return left + (width - left - 30) * hours / scale_max

    title = f"Time to verified removal per {group} (hours): median bar, p90 tick"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        '<rect width="100%" height="100%" fill="#ffffff"/>',
        f'<text x="10" y="24" font-family="sans-serif" font-size="14">{escape(title)}</text>',
        f'<line x1="{x(WITHIN_H):.1f}" y1="{top - 8}" x2="{x(WITHIN_H):.1f}" '
        f'y2="{height - 30}" stroke="#999" stroke-dasharray="4 3"/>',
        f'<text x="{x(WITHIN_H):.1f}" y="{height - 14}" font-family="sans-serif" '
        'font-size="11" text-anchor="middle">48 h</text>',
    ]
    if not rows:
        parts.append(
            f'<text x="10" y="{top + 16}" font-family="sans-serif" font-size="12">'
            "No notices sent yet.</text>"
        )
    for i, r in enumerate(rows):
        y = top + i * (bar_h + gap)
        label = escape(r.name[:32])
        parts.append(
            f'<text x="{left - 8}" y="{y + 15}" font-family="sans-serif" '
            f'font-size="12" text-anchor="end">{label}</text>'
        )
        if r.median_h is None:
            parts.append(
                f'<text x="{left + 4}" y="{y + 15}" font-family="sans-serif" '
                f'font-size="12">not removed yet ({r.notified})</text>'
            )
            continue
        parts.append(
            f'<rect x="{left}" y="{y}" width="{x(r.median_h) - left:.1f}" '
            f'height="{bar_h}" fill="#3b6ea8"><title>{label}: median '
            f"{r.median_h:.1f} h, p90 {_fmt(r.p90_h)} h, {r.removed} of "
            f"{r.notified} removed</title></rect>"
        )
        if r.p90_h is not None:
            parts.append(
                f'<line x1="{x(r.p90_h):.1f}" y1="{y}" x2="{x(r.p90_h):.1f}" '
                f'y2="{y + bar_h}" stroke="#222" stroke-width="2"/>'
            )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
