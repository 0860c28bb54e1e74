"""How a survivor wants to hear from us, and what they agree to.

The channel and times are plain columns (a caseworker needs them at a glance); the email
address or phone number is sealed with the case's data key, so deleting the case's data
(crypto-shredding) makes it unreadable too.
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from chorus.cases.models import Case
from chorus.errors import CasesError
from chorus.evidence import keys
from chorus.evidence.keys import KeyRing

Channel = Literal["portal", "email", "phone"]


class ContactChoices(BaseModel):
    channel: Channel = "portal"
    detail: str | None = Field(default=None, max_length=200)  # the address or number
    times: str | None = Field(default=None, max_length=200)  # "weekdays after 6pm"
    consent_police_contact: bool = False
    consent_linking: bool = True
    consent_peer_contact: bool = False

    def checked(self) -> ContactChoices:
        if self.channel != "portal" and not (self.detail or "").strip():
            raise CasesError(
                f"Please add the {'email address' if self.channel == 'email' else 'number'} "
                "to use, or choose to hear from us in the portal."
            )
        return self


def _context(case: Case) -> str:
    return f"case-contact:{case.reference}"


def apply(session: Session, keyring: KeyRing, case: Case, choices: ContactChoices) -> None:
    choices = choices.checked()
    case.contact_channel = choices.channel
    case.contact_times = (choices.times or "").strip() or None
    case.consent_police_contact = choices.consent_police_contact
    case.consent_linking = choices.consent_linking
    case.consent_peer_contact = choices.consent_peer_contact
    detail = (choices.detail or "").strip()
    if choices.channel == "portal" or not detail:
        case.contact_sealed = None
        return
    key = keyring.data_key(session, f"case:{case.reference}")
    nonce, sealed = keys.seal(key, json.dumps({"detail": detail}).encode(), _context(case))
    case.contact_sealed = nonce + sealed


def read(session: Session, keyring: KeyRing, case: Case) -> ContactChoices:
    detail = None
    if case.contact_sealed:
        key = keyring.data_key(session, f"case:{case.reference}", create=False)
        blob = bytes(case.contact_sealed)
        detail = json.loads(keys.unseal(key, blob[:12], blob[12:], _context(case)))["detail"]
    return ContactChoices(
        channel=case.contact_channel,  # type: ignore[arg-type]
        detail=detail,
        times=case.contact_times,
        consent_police_contact=case.consent_police_contact,
        consent_linking=case.consent_linking,
        consent_peer_contact=case.consent_peer_contact,
    )
