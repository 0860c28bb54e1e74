"""Common connections: who appears on several survivors' lists of people who had access.

"We were never asked the names": survivors in a series often share one acquaintance who
had their photos. Within a series, the lists of the survivors who consented to linking
are compared; an investigator sees only the people on at least ``k`` lists
(``CHORUS_CONNECTIONS_MIN_LISTS``, never below 2), with how many lists — never one
survivor's full list, never which survivor named whom. Names are matched as linking
matches them (the phonetic key, confirmed by spelling similarity: ``linking.same_people``),
handles and profile addresses by the normalised account name (a survivor who wrote
"@dave_k" and one who pasted instagram.com/dave_k named the same entry). Every viewing is
in the ledger.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from chorus.cases import linking
from chorus.cases.intake import IntakeAnswers
from chorus.cases.linking import KeyedArtifact
from chorus.cases.models import Case, Report, Series, SeriesMember
from chorus.config import Settings
from chorus.errors import CasesError
from chorus.evidence import ledger
from chorus.evidence.tags import EventTag
from chorus.security.policy import Actor, Permission, require

_LIVE = ("open", "closed", "transferred")


@dataclass(frozen=True)
class CommonConnection:
    """Someone on ``lists`` survivors' lists; ``shown`` is the spelling most lists use."""

    shown: str
    lists: int


def entry_key(value: str) -> KeyedArtifact | None:
    """The key one entry of a list meets others on: a handle or profile address by its
    normalised handle, a name by its phonetic key (as linking keys them)."""
    text = value.strip()
    if not text:
        return None
    if text.startswith("@") or "/" in text:
        handle = linking.handle_key(text)  # handle:name or handle:platform:name
        if handle is None:
            return None
        name = handle.rsplit(":", 1)[1]  # "@dave_k" and instagram.com/dave_k are one entry
        return KeyedArtifact(f"handle:{name}", "handle", f"@{name}")
    keyed = linking.keys_for("person_with_access", text)
    return keyed[0] if keyed else None


def _lists(session: Session, series: Series) -> dict[int, list[str]]:
    """Per consenting survivor's case, the people they named in the series' reports."""
    rows = session.execute(
        select(Case.id, Report.answers)
        .join(Report, Report.case_id == Case.id)
        .join(SeriesMember, SeriesMember.report_id == Report.id)
        .where(SeriesMember.series_id == series.id, Case.consent_linking, Case.status.in_(_LIVE))
    ).all()
    lists: dict[int, list[str]] = defaultdict(list)
    for case_id, answers in rows:
        if answers:
            lists[case_id] += IntakeAnswers.model_validate(answers).people_with_access
    return lists


def count(lists: dict[int, list[str]], k: int) -> list[CommonConnection]:
    """Entries on at least ``k`` of ``lists`` (by list id), most lists first."""
    by_key: dict[str, list[tuple[int, KeyedArtifact]]] = defaultdict(list)
    for list_id, entries in lists.items():
        for entry in entries:
            keyed = entry_key(entry)
            if keyed is not None:
                by_key[keyed.key].append((list_id, keyed))
    found: list[CommonConnection] = []
    for members in by_key.values():
        if len({list_id for list_id, _ in members}) < k:
            continue
        groups = linking.same_people(members) if members[0][1].kind == "person" else [members]
        for group in groups:
            on = len({list_id for list_id, _ in group})
            if on >= k:
                spellings = Counter(keyed.shown for _, keyed in group)
                shown = min(spellings, key=lambda s: (-spellings[s], s))
                found.append(CommonConnection(shown, on))
    return sorted(found, key=lambda c: (-c.lists, c.shown))


def common_connections(
    session: Session, settings: Settings, actor: Actor, series_id: str
) -> list[CommonConnection]:
    """The people named by at least ``connections_min_lists`` survivors of a series."""
    require(actor, Permission.VIEW_CONNECTIONS)
    series = session.scalar(select(Series).where(Series.public_id == series_id))
    if series is None:
        raise CasesError(f"No series has the id {series_id}.")
    k = max(2, settings.connections_min_lists)
    lists = _lists(session, series)
    found = count(lists, k) if len(lists) >= k else []
    refs = sorted(session.scalars(select(Case.reference).where(Case.id.in_(list(lists)))))
    ledger.append(session, EventTag.SERIES_CONNECTIONS_VIEWED, actor.label,
                  {"series": series_id, "case": refs})  # fmt: skip
    return found
