"""Linking reports into series: a deterministic graph of shared artifacts, with reasons.

Each report's artifacts become link keys:

- a thread on an image board (``thread:b/123``) whatever the domain it was seen on, so a
  mirror of the thread is the same thread;
- any other URL, normalised (scheme, ``www.``, case, trailing slash, tracking parameters
  and fragments do not matter) — but never a site's root, and never a bare big-platform
  address: those are hubs, and a hub alone never links reports;
- an image (a bank entry, or a group of entries that match each other);
- a handle, normalised (``@Name`` on a platform);
- a person named as having had access or seen in screenshots: names are compared by
  their phonetic form (Metaphone, from jellyfish) and confirmed by Jaro-Winkler
  similarity, so spelling variants ("Jon Smyth", "John Smith") meet;
- never the survivor's own town, school or workplace alone.

Reports sharing a key are linked (a star per key: n - 1 links, not n^2); a pair's link
lists every key the two share, as plain reasons a caseworker can check. Connected reports
form a suggested series; confirmed links form series.

A link whose only reasons are person names is **weak**: names collide (many unrelated
people know a "John Smith"), so it is recorded with its reasons for a caseworker to see,
but on its own it never puts two reports in a suggested series. It takes a second,
different key (a shared thread, address, image or handle) or a caseworker's confirmation.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import jellyfish

from chorus.cases import urls

#: Addresses so big that sharing them says nothing (their roots and bare profiles pages).
PLATFORMS = frozenset(
    {"facebook.com", "instagram.com", "x.com", "twitter.com", "tiktok.com", "snapchat.com",
     "reddit.com", "google.com", "youtube.com", "imgur.com", "discord.com", "t.me",
     "whatsapp.com", "onlyfans.com", "pornhub.com", "telegram.org"}
)  # fmt: skip
#: Weight of each kind of shared key (the link score is the sum, capped at 1).
WEIGHTS = {"thread": 0.9, "url": 0.8, "image": 1.0, "handle": 0.7, "person": 0.5}
#: A person key shared by more reports than this is treated as a hub (a common name).
PERSON_HUB = 200
NAME_SIMILARITY = 0.85
LINKING_KINDS = ("url", "image", "handle", "person_with_access", "person_in_screenshot")


@dataclass(frozen=True)
class KeyedArtifact:
    key: str
    kind: str
    shown: str  # what the caseworker reads in a reason


#: Kinds of key that cannot link reports into a suggested series on their own.
WEAK_KINDS = frozenset({"person"})


@dataclass
class Suggestion:
    a: int
    b: int
    reasons: list[str] = field(default_factory=list)
    score: float = 0.0
    kinds: set[str] = field(default_factory=set)

    @property
    def weak(self) -> bool:
        """Only person names in common: kept and shown, but no series on its own."""
        return self.kinds <= WEAK_KINDS


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).lower().split())


def name_key(name: str) -> str | None:
    """Phonetic key of a person's name: Metaphone of each word, in order."""
    words = re.findall(r"[a-z]+", _fold(name))
    if not words:
        return None
    return " ".join(jellyfish.metaphone(w) for w in words)


def handle_key(value: str) -> str | None:
    text = _fold(value).strip()
    canonical = urls.normalize(text) if "/" in text else None
    if canonical and "/" in canonical:  # a profile URL: platform + first path segment
        host, path = canonical.split("/", 1)
        return f"handle:{host}:{path.split('/')[0].lstrip('@')}"
    name = text.lstrip("@")
    return f"handle:{name}" if re.fullmatch(r"[a-z0-9._-]{2,60}", name) else None


def keys_for(kind: str, value: str) -> list[KeyedArtifact]:
    """The link keys one artifact gives (none for hubs and for the survivor's own details)."""
    if kind == "url":
        canonical = urls.normalize(value)
        if canonical is None or ("/" not in canonical and "?" not in canonical):
            return []  # not a web address, or a site's root: a hub
        thread = urls.thread_key(value)
        if thread:
            return [KeyedArtifact(thread, "thread", f"the same board thread ({thread[7:]})")]
        host = canonical.split("/", 1)[0]
        path = canonical[len(host) :].strip("/")
        if host in PLATFORMS and "/" not in path and "?" not in path:
            return []  # a bare platform section or profile-less page: a hub
        return [KeyedArtifact(f"url:{canonical}", "url", f"the same address ({canonical})")]
    if kind == "image":
        return [KeyedArtifact(f"image:{value}", "image", "the same image")]
    if kind == "handle":
        key = handle_key(value)
        return [KeyedArtifact(key, "handle", f"the same account ({value.strip()})")] if key else []
    if kind in ("person_with_access", "person_in_screenshot"):
        key = name_key(value)
        return [KeyedArtifact(f"person:{key}", "person", _fold(value))] if key else []
    return []


class _Components:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        self.parent.setdefault(x, x)
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def suggest(
    reports: Iterable[tuple[int, Sequence[tuple[str, str]]]],
) -> tuple[list[Suggestion], list[list[int]]]:
    """Suggested links and suggested series (groups of 2+) for ``(report id, artifacts)``.

    Weak links (person names only) are among the links but join no series.
    """
    by_key: dict[str, list[tuple[int, KeyedArtifact]]] = defaultdict(list)
    for report_id, artifacts in reports:
        seen: set[str] = set()
        for kind, value in artifacts:
            if kind not in LINKING_KINDS:
                continue
            for keyed in keys_for(kind, value):
                if keyed.key not in seen:
                    seen.add(keyed.key)
                    by_key[keyed.key].append((report_id, keyed))
    pairs: dict[tuple[int, int], Suggestion] = {}
    components = _Components()
    for members in by_key.values():
        if len(members) < 2:
            continue
        kind = members[0][1].kind
        if kind == "person":
            if len(members) > PERSON_HUB:
                continue
            groups = same_people(members)
        else:
            groups = [members]
        for group in groups:
            hub_id, hub = group[0]
            for other_id, other in group[1:]:
                pair = (min(hub_id, other_id), max(hub_id, other_id))
                link = pairs.setdefault(pair, Suggestion(*pair))
                if kind == "person":
                    names = f"{hub.shown} / {other.shown}"
                    link.reasons.append(f"both name a person with access: {names}")
                else:
                    link.reasons.append(f"both report {hub.shown}")
                link.score = min(1.0, link.score + WEIGHTS[kind])
                link.kinds.add(kind)
    for pair, link in pairs.items():
        if not link.weak:
            components.union(*pair)
    series: dict[int, list[int]] = defaultdict(list)
    for report_id in components.parent:
        series[components.find(report_id)].append(report_id)
    suggested = sorted((sorted(m) for m in series.values() if len(m) > 1), key=lambda g: g[0])
    return sorted(pairs.values(), key=lambda s: (s.a, s.b)), suggested


def same_people(
    members: list[tuple[int, KeyedArtifact]],
) -> list[list[tuple[int, KeyedArtifact]]]:
    """Within one phonetic key, keep together only names that are also spelled alike."""
    groups: list[list[tuple[int, KeyedArtifact]]] = []
    for member in members:
        for group in groups:
            if jellyfish.jaro_winkler_similarity(group[0][1].shown, member[1].shown) >= (
                NAME_SIMILARITY
            ):
                group.append(member)
                break
        else:
            groups.append([member])
    return [g for g in groups if len(g) > 1]
