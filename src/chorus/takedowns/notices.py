"""Notices: fill a regime's elements, check nothing it requires is missing, render the text.

A notice never carries an image. It identifies the content by URL and, only where the
recipient says it accepts them, by hash. The survivor's identity is disclosed only as they
consented: by default the helpline writes as their authorised representative and the
survivor is not named.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import asdict, dataclass, field
from string import Template
from typing import Any, Literal
from urllib.parse import urlsplit

from chorus.errors import NoticeIncompleteError, TakedownError
from chorus.takedowns import regimes
from chorus.takedowns.recipient import Confidence, Recipient, RecipientRole

_HASH = re.compile(r"^(pdq|sha256|md5):([0-9a-f]{32}|[0-9a-f]{64})$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
DEFAULT_DESCRIPTION = "An intimate photograph of an adult, published without their consent."


@dataclass(frozen=True)
class Disclosure:
    """How much of the survivor's identity the notice reveals (their choice, recorded)."""

    mode: Literal["representative", "named"] = "representative"
    survivor_name: str | None = None
    #: Who recorded the survivor's consent to be named (a caseworker's id).
    consent_recorded_by: str | None = None

    def checked(self) -> Disclosure:
        if self.mode == "named" and not (
            (self.survivor_name or "").strip() and (self.consent_recorded_by or "").strip()
        ):
            raise TakedownError(
                "A notice names the survivor only with their consent: give their name and "
                "who recorded their consent, or send it as their representative."
            )
        return self


@dataclass(frozen=True)
class Notifier:
    """Who sends the notice: by default the helpline (settings takedown_notifier_*)."""

    name: str = ""
    email: str = ""
    address: str = ""
    phone: str = ""


@dataclass(frozen=True)
class Choices:
    """What a caseworker decides when drafting a notice (the rest comes from the case)."""

    disclosure: Disclosure = field(default_factory=Disclosure)
    content_description: str = DEFAULT_DESCRIPTION
    explanation_extra: str = ""
    signature: str = ""
    non_consent_confirmed: bool = False
    accuracy_confirmed: bool = False
    survivor_took_image: bool = False
    hashes: tuple[str, ...] = ()
    recipient_accepts_hashes: bool = False


@dataclass(frozen=True)
class NoticeInput:
    regime: str
    recipient: Recipient
    content_urls: tuple[str, ...]
    notifier: Notifier
    choices: Choices = field(default_factory=Choices)


def choices_from(elements: dict[str, Any]) -> Choices:
    """The choices a stored notice was made with (for a revision, re-notice or escalation)."""
    d = elements["disclosure"]
    return Choices(
        disclosure=Disclosure(d["mode"], d.get("survivor_name"), d.get("consent_recorded_by")),
        content_description=elements["content_description"],
        explanation_extra=elements.get("explanation_extra", ""),
        signature=elements["signature"],
        non_consent_confirmed=elements["non_consent_confirmed"],
        accuracy_confirmed=elements["accuracy_confirmed"],
        survivor_took_image=elements["survivor_took_image"],
        hashes=tuple(elements["hashes"]),
        recipient_accepts_hashes=bool(elements["hashes"]),
    )


def notifier_from(elements: dict[str, Any]) -> Notifier:
    return Notifier(
        elements["notifier_name"],
        elements["notifier_email"],
        elements["notifier_address"],
        elements["notifier_phone"],
    )


def _text(value: str, what: str, limit: int = 2000) -> str:
    value = value.strip()
    if len(value) > limit:
        raise TakedownError(f"The {what} is too long (at most {limit} characters).")
    if _CONTROL.sub("", value.replace("\n", " ")) != value.replace("\n", " "):
        raise TakedownError(f"The {what} contains control characters; please retype it.")
    return value


def check_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname or _CONTROL.search(url):
        raise TakedownError(f"{url[:100]!r} is not a web address (http or https) of a copy.")
    if len(url) > 2000:
        raise TakedownError("A URL in the notice is longer than 2,000 characters.")
    return url


def check_email(value: str, what: str = "email address") -> str:
    value = value.strip()
    if value and not re.fullmatch(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+", value):
        raise TakedownError(f"{value[:100]!r} is not a usable {what}.")
    return value


def check_web_form(url: str | None) -> None:
    """A recipient's web form must be an http(s) address (the pack page links to it)."""
    if url is None:
        return
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname or _CONTROL.search(url):
        raise TakedownError(
            f"{url[:100]!r} is not the address of a web form; give it in full, starting https://."
        )


def recipient_snapshot(recipient: Recipient) -> dict[str, Any]:
    data = asdict(recipient)
    data["role"], data["confidence"] = recipient.role.value, recipient.confidence.value
    data["notes"] = list(recipient.notes)
    return data


def recipient_from(snapshot: dict[str, Any]) -> Recipient:
    return Recipient(
        role=RecipientRole(snapshot["role"]),
        name=snapshot["name"],
        source=snapshot["source"],
        confidence=Confidence(snapshot["confidence"]),
        email=snapshot.get("email"),
        web_form_url=snapshot.get("web_form_url"),
        phone=snapshot.get("phone"),
        notes=tuple(snapshot.get("notes") or ()),
    )


def elements_of(given: NoticeInput) -> dict[str, Any]:
    """The values of every element, checked; refuses bad input (TakedownError)."""
    regime, chosen = regimes.get(given.regime), given.choices
    if regime.only_if and not getattr(chosen, regime.only_if):
        raise TakedownError(regime.refusal or f"{regime.title} does not apply here.")
    disclosure = chosen.disclosure.checked()
    if regime.representative_only and disclosure.mode == "named":
        raise TakedownError(" ".join(regime.representative_only.split()))
    if chosen.hashes and not chosen.recipient_accepts_hashes:
        raise TakedownError(
            "Hashes go in a notice only when the recipient says it accepts them; "
            "the URLs identify the content."
        )
    hashes = [h.strip().lower() for h in chosen.hashes]
    for value in hashes:
        if not _HASH.match(value):
            raise TakedownError(f"{value[:80]!r} is not a hash Chorus can name (pdq:, sha256:).")
    check_email(given.recipient.email or "", "recipient email address")
    check_web_form(given.recipient.web_form_url)
    extra = _text(chosen.explanation_extra, "explanation")
    explanation = " ".join(p for p in (regime.explanation, extra) if p)
    return {
        "content_urls": [check_url(u) for u in dict.fromkeys(given.content_urls)],
        "content_description": _text(chosen.content_description, "description", 500),
        "explanation": explanation,
        "explanation_extra": extra,
        "notifier_name": _text(given.notifier.name, "sender's name", 200),
        "notifier_email": check_email(given.notifier.email, "sender email address"),
        "notifier_address": _text(given.notifier.address, "sender's address", 500),
        "notifier_phone": _text(given.notifier.phone, "sender's phone number", 50),
        "disclosure": {
            "mode": disclosure.mode,
            "survivor_name": (disclosure.survivor_name or "").strip() or None,
            "consent_recorded_by": disclosure.consent_recorded_by,
        },
        "signature": _text(chosen.signature, "signature", 200),
        "non_consent_confirmed": bool(chosen.non_consent_confirmed),
        "accuracy_confirmed": bool(chosen.accuracy_confirmed),
        "survivor_took_image": bool(chosen.survivor_took_image),
        "hashes": hashes,
    }


def missing(regime_id: str, elements: dict[str, Any]) -> list[str]:
    """The plain names of every element the regime requires that has no value."""
    return [regimes.ELEMENTS[k] for k in regimes.get(regime_id).requires if not elements.get(k)]


def require_complete(regime_id: str, elements: dict[str, Any]) -> None:
    gaps = missing(regime_id, elements)
    if gaps:
        title = regimes.get(regime_id).title
        raise NoticeIncompleteError(
            f"This {title} cannot be sent yet. It still needs: " + "; ".join(gaps) + "."
        )


def _notifier_block(elements: dict[str, Any]) -> str:
    lines = [elements["notifier_name"] or "[missing: the sender's name]"]
    lines.append(elements["notifier_email"] or "[missing: the sender's email address]")
    lines += [v for v in (elements["notifier_address"], elements["notifier_phone"]) if v]
    disclosure = elements["disclosure"]
    if disclosure["mode"] == "named":
        lines.append(
            f"We act for {disclosure['survivor_name']}, the person shown, at their request "
            "and with their consent to be named here."
        )
    else:
        lines.append(
            "We act as the authorised representative of the person shown, at their request. "
            "They have asked us not to share their name; please contact us, not them."
        )
    return "\n".join(line for text in lines for line in textwrap.wrap(text, 90))


def render(
    regime_id: str, reference: str, recipient_name: str, elements: dict[str, Any]
) -> tuple[str, str]:
    """(subject, body): the notice as it will be sent; gaps are marked "[missing: ...]"."""
    regime = regimes.get(regime_id)
    urls = elements["content_urls"]
    hashes = elements["hashes"]
    hashes_section = (
        (
            "\nThe same content can be recognised by these hashes (you told us you accept them):\n"
            + "\n".join(f"- {h}" for h in hashes)
            + "\n"
        )
        if hashes
        else ""
    )
    wrap = "\n".join(textwrap.wrap(elements["explanation"], 90))
    values = {
        "recipient_name": recipient_name,
        "reference": reference,
        "content_urls": "\n".join(f"- {u}" for u in urls) or "[missing: the exact URLs]",
        "hashes_section": hashes_section,
        "explanation": wrap or "[missing: why the content is illegal]",
        "content_description": elements["content_description"] or "[missing: what the content is]",
        "notifier_block": _notifier_block(elements),
        "signature_line": elements["signature"]
        or ("[missing: signature]" if "signature" in regime.requires else ""),
    }
    subject = Template(regime.subject).substitute(values)
    body = Template(regime.body).substitute(values)
    return subject, body.strip() + "\n"
