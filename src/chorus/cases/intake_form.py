"""The web intake form's steps: which answers each step asks for, and how the saved values
become a report's answers and the survivor's contact choices.

Values are kept as the form sends them (strings, "on" for ticked boxes) in the draft, so a
survivor who goes back sees exactly what they typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from chorus.cases.contact import ContactChoices
from chorus.cases.intake import OWN_DETAILS, IntakeAnswers
from chorus.errors import CasesError


@dataclass(frozen=True)
class Step:
    name: str
    title: str
    texts: dict[str, int]  # field -> longest answer accepted
    boxes: tuple[str, ...] = ()
    lists: tuple[str, ...] = ()  # texts read one entry per line


STEPS: tuple[Step, ...] = (
    Step("what", "What happened",
         {"what_was_shared": 5000, "when_seen": 200},
         ("already_shared", "threatened_to_share", "asked_for_money_or_images",
          "repeated_contact")),
    Step("where", "Where you saw them", {"urls": 200 * 2001}, lists=("urls",)),
    Step("how", "How they might have been obtained", {"how_obtained": 40}),
    Step("who", "Who could have had them",
         {"people_with_access": 500 * 301, "people_in_screenshots": 100 * 301,
          "handles": 100 * 301},
         lists=("people_with_access", "people_in_screenshots", "handles")),
    Step("details", "Your details next to the images",
         {f"own_{k}": 300 for k in OWN_DETAILS}),
    Step("contact", "How we keep in touch",
         {"channel": 10, "detail": 200, "times": 200},
         ("consent_police_contact", "consent_linking", "consent_peer_contact")),
    Step("finish", "Check and finish", {}),
)  # fmt: skip
LAST = len(STEPS)


def step(number: int) -> Step:
    if not 1 <= number <= LAST:
        raise CasesError("That part of the form does not exist. Please start again.")
    return STEPS[number - 1]


def defaults() -> dict[str, Any]:
    """A new report's values: linking with other survivors' cases is on unless declined."""
    return {"consent_linking": "on", "channel": "portal", "how_obtained": "unknown"}


def update(values: dict[str, Any], number: int, form: Mapping[str, str]) -> dict[str, Any]:
    """The draft's values with step ``number``'s answers from ``form`` (unticked = off)."""
    current = step(number)
    out = dict(values)
    for field, limit in current.texts.items():
        value = form.get(field, "")
        if len(value) > limit:
            raise CasesError(f"One answer ({current.title.lower()}) is too long to keep.")
        out[field] = value
    for box in current.boxes:
        out[box] = "on" if form.get(box) else ""
    return out


def _lines(value: object) -> list[str]:
    return [line.strip() for line in str(value or "").splitlines() if line.strip()]


def check_step(values: Mapping[str, Any], number: int) -> None:
    """What must be answered before moving on (only what was shared, in the first step)."""
    if step(number).name == "what" and not str(values.get("what_was_shared", "")).strip():
        raise CasesError("Please say in a few words what was shared. That is all we need to start.")


def answers(values: Mapping[str, Any]) -> tuple[IntakeAnswers, ContactChoices]:
    """The report's answers and contact choices; a clear error names what to change."""
    try:
        report = IntakeAnswers(
            what_was_shared=str(values.get("what_was_shared", "")).strip(),
            when_seen=str(values.get("when_seen", "")).strip() or None,
            urls=_lines(values.get("urls")),
            how_obtained=values.get("how_obtained") or "unknown",
            people_with_access=_lines(values.get("people_with_access")),
            people_in_screenshots=_lines(values.get("people_in_screenshots")),
            handles=_lines(values.get("handles")),
            own_details_seen={
                k: str(values[f"own_{k}"]).strip()
                for k in OWN_DETAILS
                if str(values.get(f"own_{k}", "")).strip()
            },
            already_shared=bool(values.get("already_shared")),
            threatened_to_share=bool(values.get("threatened_to_share")),
            asked_for_money_or_images=bool(values.get("asked_for_money_or_images")),
            repeated_contact=bool(values.get("repeated_contact")),
            route="web",
        )
        contact = ContactChoices(
            channel=values.get("channel") or "portal",
            detail=str(values.get("detail", "")).strip() or None,
            times=str(values.get("times", "")).strip() or None,
            consent_police_contact=bool(values.get("consent_police_contact")),
            consent_linking=bool(values.get("consent_linking")),
            consent_peer_contact=bool(values.get("consent_peer_contact")),
        ).checked()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = str(first["loc"][0]) if first["loc"] else "an answer"
        raise CasesError(
            f"One answer needs changing before we can file the report ({where}): {first['msg']}."
        ) from exc
    return report, contact
