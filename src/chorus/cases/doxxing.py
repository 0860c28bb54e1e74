"""Is a survivor's own detail written beside a copy of their images? (doxxing checks)

The monitor passes the words of a post and its thread; this finds the survivor's own
identifiers in them: their name and its variants (spelling that sounds the same, either
order, accents), handles with or without ``@``, school, workplace and town as whole words.
Only which kinds of detail were seen leave this module, never the text around them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import jellyfish

#: Kinds that put a survivor at high risk when seen beside their images; a town alone
#: raises the risk but is shared with many people.
HIGH_RISK = frozenset({"name", "handle", "school", "workplace"})
_WORD = re.compile(r"[a-z0-9_]+")
_MAX_TEXT = 20_000
_APOSTROPHES = re.compile(r"['\u2019`]")


def _words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text[:_MAX_TEXT]).encode("ascii", "ignore").decode()
    return _WORD.findall(_APOSTROPHES.sub("", folded.casefold()))


def _sound(word: str) -> str:
    return jellyfish.metaphone(word) or word


@dataclass(frozen=True)
class OwnDetail:
    """One identifier of the survivor, as words to look for."""

    kind: str
    words: tuple[str, ...]

    @classmethod
    def of(cls, kind: str, value: str) -> OwnDetail | None:
        words = tuple(_words(value.lstrip("@") if kind == "handle" else value))
        return cls(kind, words) if words else None

    def seen_in(self, words: list[str], sounds: list[str]) -> bool:
        n = len(self.words)
        if self.kind == "handle":
            return _handle_in(words, "".join(self.words).replace("_", ""))
        if self.kind == "name":
            if n == 1:  # a single given name alone is too common to mean anything
                return False
            for order in (self.words, self.words[::-1]):
                for i in range(len(words) - n + 1):
                    if all(_same_name(a, words[i + j], sounds[i + j]) for j, a in enumerate(order)):
                        return True
            return False
        return _run_in(words, list(self.words))


def _same_name(wanted: str, word: str, sound: str) -> bool:
    """The same name word, or one spelled differently that sounds alike (Jayne for Jane,
    Smyth for Smith) and is close in spelling too (so John is not Jane)."""
    if wanted == word:
        return True
    return sound == _sound(wanted) and jellyfish.jaro_winkler_similarity(wanted, word) >= 0.85


def _run_in(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


def _handle_in(words: list[str], handle: str) -> bool:
    """The handle as one word, or written out in a few ("jane doe 99" for @jane_doe99)."""
    compact = [w.replace("_", "") for w in words]
    for i in range(len(compact)):
        joined = ""
        for word in compact[i : i + 4]:
            joined += word
            if joined == handle:
                return True
            if not handle.startswith(joined):
                break
    return False


def details_from(own: Iterable[tuple[str, str]]) -> list[OwnDetail]:
    out = []
    for kind, value in own:
        detail = OwnDetail.of(kind, value)
        if detail is not None and detail not in out:
            out.append(detail)
    return out


def kinds_seen(text: str, details: list[OwnDetail]) -> list[str]:
    """The kinds of the survivor's details that appear in ``text``, in a stable order."""
    if not details or not text:
        return []
    words = _words(text)
    sounds = [_sound(w) for w in words]
    return sorted({d.kind for d in details if d.seen_in(words, sounds)})


def risk_for(kinds: Iterable[str]) -> str:
    kinds = set(kinds)
    if kinds & HIGH_RISK:
        return "high"
    return "raised" if kinds else "standard"


def own_details(answers: Mapping[str, object]) -> list[tuple[str, str]]:
    """(kind, value) pairs of the survivor's own details from one report's answers."""
    seen = answers.get("own_details_seen")
    if not isinstance(seen, Mapping):
        return []
    return [(str(k), str(v)) for k, v in seen.items() if isinstance(v, str) and v.strip()]
