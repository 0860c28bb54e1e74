"""What a survivor tells us, as structured answers, and the artifacts linking reads from it.

The questions are asked in calm, plain words and never imply blame; how the images were
obtained is context only (see ``classification``: it never decides whether a crime was
recorded).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

HowObtained = Literal[
    "hacked_account", "sent_to_someone", "social_media", "taken_covertly", "unknown"
]
OWN_DETAILS = ("name", "school", "workplace", "town", "handle")
Url = Annotated[str, StringConstraints(max_length=2000)]
Short = Annotated[str, StringConstraints(max_length=300)]


class IntakeAnswers(BaseModel):
    """One report's answers. Every field is optional except what was shared."""

    what_was_shared: str = Field(min_length=1, max_length=5000)
    urls: list[Url] = Field(default_factory=list, max_length=200)
    when_seen: str | None = Field(default=None, max_length=200)
    how_obtained: HowObtained = "unknown"
    people_with_access: list[Short] = Field(default_factory=list, max_length=500)
    people_in_screenshots: list[Short] = Field(default_factory=list, max_length=100)
    handles: list[Short] = Field(default_factory=list, max_length=100)
    images: list[Short] = Field(default_factory=list, max_length=500)  # bank entry ids
    own_details_seen: dict[Short, Short] = Field(default_factory=dict, max_length=20)
    already_shared: bool = True
    threatened_to_share: bool = False
    asked_for_money_or_images: bool = False
    repeated_contact: bool = False
    route: Literal["web", "phone", "police", "api"] = "web"


def artifacts_from_answers(answers: IntakeAnswers | dict[str, object]) -> list[tuple[str, str]]:
    """Typed artifacts ``(kind, value)`` of one report, in the order given."""
    data = answers if isinstance(answers, IntakeAnswers) else IntakeAnswers.model_validate(answers)
    out: list[tuple[str, str]] = []
    out += [("url", u) for u in data.urls if u.strip()]
    out += [("image", i) for i in data.images]
    out += [("handle", h) for h in data.handles if h.strip()]
    out += [("person_with_access", p) for p in data.people_with_access if p.strip()]
    out += [("person_in_screenshot", p) for p in data.people_in_screenshots if p.strip()]
    out += [(f"own_{k}", v) for k, v in data.own_details_seen.items() if k in OWN_DETAILS and v]
    return out
