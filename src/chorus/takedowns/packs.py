"""A pre-filled pack for recipients that only take web forms: every field, ready to paste.

The pack holds text only (a notice never attaches an image). It ends with a checklist, and
with how to record the send in Chorus once the form is submitted.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from chorus.errors import TakedownError
from chorus.takedowns import notices, regimes, service


@dataclass(frozen=True)
class FormPack:
    notice: str
    form_url: str | None
    fields: list[tuple[str, str]]  # (what the form asks, what to paste)
    checklist: list[str]
    missing: list[str]

    def as_text(self) -> str:
        lines = [f"Web form pack for notice {self.notice}", ""]
        lines.append(f"Form: {self.form_url or '(find the recipient’s report or abuse form)'}")
        if self.missing:
            lines += ["", "Not ready to send. Still needed: " + "; ".join(self.missing) + "."]
        for label, value in self.fields:
            lines += ["", f"== {label} ==", value]
        lines += ["", "== Checklist =="] + [f"[ ] {item}" for item in self.checklist]
        return "\n".join(lines) + "\n"


def web_form_pack(session: Session, notice_id: str) -> FormPack:
    takedown, notice = service.notice_row(session, notice_id)
    if notice.state not in ("draft", "sending"):
        raise TakedownError(f"Notice {notice_id} was already {notice.state}.")
    e = notice.elements
    regime = regimes.get(notice.regime)
    disclosure = e["disclosure"]
    relationship = (
        f"Acting for {disclosure['survivor_name']} (the person shown), with their consent"
        if disclosure["mode"] == "named"
        else "Authorised representative of the person shown (a support organisation)"
    )
    fields: list[tuple[str, str]] = [
        ("URL(s) of the content (one per line)", "\n".join(e["content_urls"])),
        ("What the content is", e["content_description"]),
        (
            "Why it is illegal / details of your report",
            e["explanation"] or e["content_description"],
        ),
        ("Law or policy it breaks", f"{regime.title} ({regime.jurisdiction})"),
        ("Your name", e["notifier_name"]),
        ("Your email address", e["notifier_email"]),
        ("Your relationship to the person shown", relationship),
    ]
    if e["notifier_address"]:
        fields.append(("Postal address", e["notifier_address"]))
    if e["signature"]:
        fields.append(("Signature (type it where the form asks)", e["signature"]))
    if e["hashes"]:
        fields.append(("Hashes (only if the form asks for them)", "\n".join(e["hashes"])))
    fields.append(("Our reference", takedown.public_id))
    fields.append(("Full notice (if the form has a free-text box)", notice.body))
    checklist = [
        f"Open the form: {notice.recipient.get('web_form_url') or 'the recipient’s abuse form'}",
        "Paste each field above into the matching box.",
        "Do not upload any image or screenshot, even if the form offers it: the URLs are enough.",
        "Tick a confirmation box only where it matches what the person shown told us.",
        "Submit the form and note any confirmation number or ticket reference.",
        f"Record it in Chorus: chorus takedown send {notice.public_id} --web-form "
        "--note 'ticket ...'",
    ]
    return FormPack(
        notice.public_id,
        notice.recipient.get("web_form_url"),
        fields,
        checklist,
        notices.missing(notice.regime, e),
    )
