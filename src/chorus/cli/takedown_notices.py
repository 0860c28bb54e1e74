"""``chorus takedown draft|send|status|metrics|answer|escalation``: notices from the command line.

Thin: every rule is in ``chorus.takedowns``; this parses options, calls a service and maps
errors to exit code 1 with one plain line. ``register`` adds the commands to the
``takedown`` group (which ``cli/takedown.py`` shares with ``discover``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chorus.cli._context import database, errors_to_exit
from chorus.evidence.keys import KeyRing
from chorus.security.policy import Actor, Role
from chorus.store.session import transaction
from chorus.takedowns import metrics, packs, regimes, sending, service
from chorus.takedowns.notices import Choices, Disclosure
from chorus.takedowns.recipient import Confidence, Recipient, RecipientRole

By = Annotated[str, typer.Option("--by", help="Who is acting (staff id), for the record.")]


def draft(
    sighting: Annotated[str, typer.Argument(help="The sighting (copy) id, e.g. SG-1A2B3C4D5E6F.")],
    regime: Annotated[
        str, typer.Option(help="Notice template: " + ", ".join(r.id for r in regimes.all_regimes()))
    ],
    recipient_name: Annotated[str, typer.Option(help="Whom the notice is for.")],
    by: By,
    role: Annotated[RecipientRole, typer.Option(help="Where they sit.")] = RecipientRole.SITE,
    recipient_email: Annotated[str | None, typer.Option(help="Their abuse address.")] = None,
    recipient_form: Annotated[str | None, typer.Option(help="Their web form, if any.")] = None,
    source: Annotated[str, typer.Option(help="Where the contact was found.")] = "caseworker",
    signature: Annotated[str, typer.Option(help="e.g. '/s/ A. Name, for the helpline'.")] = "",
    non_consent: Annotated[
        bool, typer.Option("--non-consent", help="The person shown did not consent.")
    ] = False,
    accurate: Annotated[
        bool, typer.Option("--accurate", help="The notice is accurate and in good faith.")
    ] = False,
    took_image: Annotated[
        bool, typer.Option("--took-image", help="The survivor took the photo (DMCA only).")
    ] = False,
    explanation: Annotated[str, typer.Option(help="Anything to add to why it is illegal.")] = "",
) -> None:
    """Draft a notice for a copy (opening its takedown if needed) and show it for review.

    The survivor is not named: the notice is sent as their authorised representative."""
    settings, sessions = database()
    actor = Actor(Role.CASEWORKER, by)
    recipient = Recipient(
        role,
        recipient_name,
        source,
        Confidence.MEDIUM,
        email=recipient_email,
        web_form_url=recipient_form,
    )
    choices = Choices(
        disclosure=Disclosure(),
        explanation_extra=explanation,
        signature=signature,
        non_consent_confirmed=non_consent,
        accuracy_confirmed=accurate,
        survivor_took_image=took_image,
    )
    with errors_to_exit(), transaction(sessions) as session:
        takedown = service.for_sighting(session, sighting) or service.open_takedown(
            session, sighting, by=actor, candidates=[recipient]
        )
        notice = service.draft(
            session,
            takedown.public_id,
            by=actor,
            regime=regime,
            recipient=recipient,
            notifier=service.notifier_from_settings(settings),
            choices=choices,
        )
    typer.echo(f"{notice.public_id}\t{takedown.public_id}\t{notice.regime_title}")
    if notice.missing:
        typer.echo("Not ready to send. Still needed: " + "; ".join(notice.missing) + ".")
    typer.echo(f"\nSubject: {notice.subject}\n\n{notice.body}")


def send(
    notice: Annotated[str, typer.Argument(help="The notice id, e.g. N-1A2B3C4D5E6F.")],
    by: By,
    pack: Annotated[bool, typer.Option("--pack", help="Print the web form pack only.")] = False,
    web_form: Annotated[
        bool, typer.Option("--web-form", help="Record that it was sent through a web form.")
    ] = False,
    manual: Annotated[
        bool, typer.Option("--manual", help="Record that it was sent by hand.")
    ] = False,
    note: Annotated[str, typer.Option(help="A ticket number or how it was sent.")] = "",
) -> None:
    """Send a notice by email (at most once), print its web form pack, or record a send."""
    settings, sessions = database()
    actor = Actor(Role.CASEWORKER, by)
    keyring = KeyRing(settings)
    with errors_to_exit():
        if pack:
            with transaction(sessions) as session:
                typer.echo(packs.web_form_pack(session, notice).as_text(), nl=False)
            return
        if web_form or manual:
            with transaction(sessions) as session:
                result = sending.mark_sent(
                    session,
                    keyring,
                    settings,
                    notice,
                    by=actor,
                    channel=sending.WEB_FORM if web_form else sending.MANUAL,
                    note=note,
                )
        else:
            result = sending.send_email(sessions, keyring, settings, notice, by=actor)
    typer.echo(f"{result.notice}\t{result.state}\t{result.message}")


def status(
    which: Annotated[
        str | None, typer.Argument(help="A case reference or takedown id; empty: all open.")
    ] = None,
) -> None:
    """Takedowns with each notice's state; a takedown id shows its whole history."""
    _settings, sessions = database()
    with errors_to_exit(), transaction(sessions) as session:
        if which and which.startswith("TD-"):
            views = [service.get(session, which)]
        else:
            views = service.listing(session, which)
        for v in views:
            typer.echo(f"{v.public_id}\t{v.state}\tcase {v.case_ref}\tcopy {v.sighting}")
            for n in v.notices:
                sent = f"sent {n.sent_at:%Y-%m-%d %H:%M}" if n.sent_at else "not sent"
                typer.echo(
                    f"  {n.public_id}\t{n.state}\t{n.recipient.name} ({n.recipient.role})"
                    f"\t{n.regime}\t{sent}\t{n.plain_state}"
                )
            for p in v.proposals:
                typer.echo(f"  {p.public_id}\t{p.state}\tnext: {p.role}\t{p.reason}")
            if which and which.startswith("TD-"):
                for h in v.history:
                    typer.echo(
                        f"    {h.at:%Y-%m-%d %H:%M}\t{h.subject}\t{h.from_state or '-'}"
                        f" -> {h.to_state}\t{h.by}\t{h.why}"
                    )
        if not views:
            typer.echo("No takedowns to show.")


def answer(
    notice: Annotated[str, typer.Argument(help="The notice id.")],
    outcome: Annotated[str, typer.Argument(help="acknowledged or refused.")],
    by: By,
    note: Annotated[str, typer.Option(help="What they said.")],
) -> None:
    """Record a recipient's reply. Removal is never recorded by hand: Chorus checks."""
    _settings, sessions = database()
    with errors_to_exit(), transaction(sessions) as session:
        v = service.record_answer(
            session, notice, outcome, by=Actor(Role.CASEWORKER, by), note=note
        )
    typer.echo(f"{v.public_id}\t{v.state}")


def escalation(
    proposal: Annotated[str, typer.Argument(help="The escalation id, e.g. E-1A2B3C4D5E6F.")],
    decision: Annotated[str, typer.Argument(help="approve or decline.")],
    by: By,
    why: Annotated[str, typer.Option(help="The reason, kept with the history.")],
    email: Annotated[str | None, typer.Option(help="Whom to write to, if none known.")] = None,
    form: Annotated[str | None, typer.Option(help="Their web form, if none known.")] = None,
    name: Annotated[str, typer.Option(help="Their name, with --email/--form.")] = "",
) -> None:
    """Approve (a draft to the next recipient is made) or decline a proposed escalation."""
    if decision not in ("approve", "decline"):
        typer.echo("chorus: say 'approve' or 'decline'.", err=True)
        raise typer.Exit(2)
    _settings, sessions = database()
    with errors_to_exit(), transaction(sessions) as session:
        recipient = None
        if email or form:
            v = [
                p for t in service.listing(session) for p in t.proposals if p.public_id == proposal
            ]
            role = RecipientRole(v[0].role) if v else RecipientRole.REGULATOR
            recipient = Recipient(
                role,
                name or (email or form or ""),
                "caseworker",
                Confidence.MEDIUM,
                email=email,
                web_form_url=form,
            )
        made = service.decide_escalation(
            session,
            proposal,
            approve=decision == "approve",
            by=Actor(Role.CASEWORKER, by),
            why=why,
            recipient=recipient,
        )
    typer.echo(f"{made.public_id}\t{made.state}\t{made.notice or ''}")


def metrics_(
    csv_file: Annotated[Path | None, typer.Option("--csv", help="Write the table here.")] = None,
    svg_file: Annotated[Path | None, typer.Option("--svg", help="Write the chart here.")] = None,
) -> None:
    """Time to verified removal per recipient and provider, removals within 48 h, re-appearances."""
    _settings, sessions = database()
    with transaction(sessions) as session:
        summary = metrics.compute(session)
    if csv_file:
        csv_file.write_text(metrics.to_csv(summary), encoding="utf-8")
    if svg_file:
        svg_file.write_text(metrics.to_svg(summary), encoding="utf-8")

    def h(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f} h"

    share = "-" if summary.within_48h is None else f"{summary.within_48h:.0%}"
    rate = "-" if summary.reappearance_rate is None else f"{summary.reappearance_rate:.0%}"
    typer.echo(
        f"copies notified: {summary.notified}, removed: {summary.removed}, "
        f"median {h(summary.median_h)}, p90 {h(summary.p90_h)}, within 48 h: {share}, "
        f"came back: {rate}"
    )
    for r in summary.rows:
        typer.echo(
            f"{r.group}\t{r.name}\t{r.removed}/{r.notified}\tmedian {h(r.median_h)}"
            f"\tp90 {h(r.p90_h)}"
        )


def register(app: typer.Typer) -> None:
    """Add these commands to the ``takedown`` group."""
    app.command("draft")(draft)
    app.command("send")(send)
    app.command("status")(status)
    app.command("answer")(answer)
    app.command("escalation")(escalation)
    app.command("metrics")(metrics_)
