"""Blame-free classification: a code table (data, one file per jurisdiction), rules that
suggest codes from the intake answers, and a record of every (re-)classification.

How the images were obtained — a hacked account, sent to an ex, taken from social media,
taken covertly — adds codes beside the image-sharing offence and never replaces it: a
report of intimate images shared without consent cannot be recorded without a primary
code, whatever the route.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from chorus.cases.intake import IntakeAnswers
from chorus.errors import CasesError


@dataclass(frozen=True)
class Offence:
    code: str
    kind: str  # primary or additional
    title: str
    law: str


@dataclass(frozen=True)
class CodeTable:
    jurisdiction: str
    offences: dict[str, Offence]
    rules: list[dict[str, Any]]

    @property
    def primary(self) -> set[str]:
        return {c for c, o in self.offences.items() if o.kind == "primary"}


@cache
def table(jurisdiction: str = "england-wales") -> CodeTable:
    name = f"offences-{jurisdiction}.json"
    try:
        text = resources.files("chorus.cases").joinpath("data", name).read_text()
    except FileNotFoundError as exc:
        raise CasesError(f"No offence code table for {jurisdiction!r}.") from exc
    data = json.loads(text)
    offences = {
        o["code"]: Offence(o["code"], o["kind"], o["title"], o["law"]) for o in data["codes"]
    }
    return CodeTable(data["jurisdiction"], offences, data["rules"])


def suggest(answers: IntakeAnswers, jurisdiction: str = "england-wales") -> list[tuple[str, str]]:
    """Suggested ``(code, why)``, primary codes first."""
    codes = table(jurisdiction)
    values = answers.model_dump()
    out: list[tuple[str, str]] = []
    for rule in codes.rules:
        if all(values.get(k) == v for k, v in rule["when"].items()):
            out += [(code, rule["why"]) for code in rule["suggest"] if code not in dict(out)]
    return sorted(out, key=lambda cw: codes.offences[cw[0]].kind != "primary")


def check(answers: IntakeAnswers, chosen: list[str], jurisdiction: str = "england-wales") -> None:
    """Refuse a classification that drops the image-sharing offence, or unknown codes."""
    codes = table(jurisdiction)
    unknown = [c for c in chosen if c not in codes.offences]
    if unknown:
        raise CasesError(f"Unknown offence code(s): {', '.join(unknown)}.")
    needs_primary = any(
        codes.offences[c].kind == "primary" for c, _ in suggest(answers, jurisdiction)
    )
    if needs_primary and not set(chosen) & codes.primary:
        raise CasesError(
            "This report describes intimate images shared (or threatened to be shared) without "
            "consent, which is an offence however the images were obtained. Record a primary "
            "code (s66B); hacking, harassment or blackmail codes go beside it, not instead."
        )
