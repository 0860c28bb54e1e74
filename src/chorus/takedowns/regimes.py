"""Legal regimes for notices, read from data files (``takedowns/data/<id>.toml``).

Each file lists the elements its law requires and the notice's text. Adding a regime is
adding a file; the completeness check and the renderer read only what is in it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from chorus.errors import TakedownError

#: Every element a regime may require, with the words used when one is missing.
ELEMENTS: dict[str, str] = {
    "content_urls": "the exact URL of each copy",
    "content_description": "a plain identification of the content",
    "explanation": "an explanation of why the content is illegal",
    "notifier_name": "the name of the person or organisation sending the notice",
    "notifier_email": "the email address of the sender",
    "notifier_address": "the postal address of the sender",
    "non_consent_confirmed": "confirmation that the person shown did not consent",
    "accuracy_confirmed": "confirmation that the notice is accurate and made in good faith",
    "signature": "a signature of the person shown or of their authorised representative",
    "survivor_took_image": "confirmation that the person shown took the photograph themselves",
}


@dataclass(frozen=True)
class Regime:
    id: str
    title: str
    jurisdiction: str
    requires: tuple[str, ...]
    subject: str
    body: str
    explanation: str
    only_if: str | None = None
    refusal: str | None = None
    #: Why this regime never names the survivor (the helpline writes as representative):
    #: e.g. DMCA notices are routinely passed to the uploader and published.
    representative_only: str | None = None


@cache
def _all() -> dict[str, Regime]:
    found: dict[str, Regime] = {}
    for item in resources.files("chorus.takedowns").joinpath("data").iterdir():
        if not item.name.endswith(".toml"):
            continue
        data = tomllib.loads(item.read_text(encoding="utf-8"))
        unknown = [e for e in data["requires"] if e not in ELEMENTS]
        if unknown:  # a broken data file is a programming error, caught by the tests
            raise TakedownError(f"Regime {data['id']} requires unknown elements: {unknown}")
        found[data["id"]] = Regime(
            id=data["id"],
            title=data["title"],
            jurisdiction=data["jurisdiction"],
            requires=tuple(data["requires"]),
            subject=data["subject"].strip(),
            body=data["body"].strip("\n"),
            explanation=" ".join(data.get("explanation", "").split()),
            only_if=data.get("only_if"),
            refusal=data.get("refusal"),
            representative_only=data.get("representative_only"),
        )
    return found


def all_regimes() -> list[Regime]:
    return sorted(_all().values(), key=lambda r: r.id)


def get(regime_id: str) -> Regime:
    regimes = _all()
    if regime_id not in regimes:
        raise TakedownError(
            f"There is no notice template called {regime_id!r}. "
            f"Choose one of: {', '.join(sorted(regimes))}."
        )
    return regimes[regime_id]
