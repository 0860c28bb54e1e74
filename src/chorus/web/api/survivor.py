"""Survivors: file a report (and get a case reference), sign in, send fingerprints.

No account, no email: the case reference and a PIN the survivor chose are the only
credentials, and the session is a signed cookie (HttpOnly, SameSite=Strict) with a CSRF
token for every change.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Cookie, Header, Request, Response
from pydantic import BaseModel, Field

from chorus.cases import service as cases
from chorus.cases.intake import IntakeAnswers
from chorus.errors import ChorusError, RateLimitedError, SignInError
from chorus.matching import bank
from chorus.matching.bank import SignalInput
from chorus.security import survivor_auth
from chorus.security.survivor_auth import COOKIE, SessionSigner, SurvivorSession
from chorus.web.api.deps import IndexDep, SessionDep

router = APIRouter(prefix="/api/v1", tags=["survivors"])


class ReportIn(BaseModel):
    answers: IntakeAnswers
    pin: str = Field(min_length=6, max_length=12, description="6 to 12 digits, chosen by you")


class ReportOut(BaseModel):
    reference: str
    report_id: str
    message: str


class SignIn(BaseModel):
    reference: str = Field(min_length=1, max_length=40)
    pin: str = Field(min_length=1, max_length=40)


class SignedIn(BaseModel):
    csrf_token: str


class FingerprintsIn(BaseModel):
    fingerprints: list[dict[str, Any]] = Field(max_length=500)


class FingerprintsOut(BaseModel):
    added: int
    refused: list[dict[str, str]]


def _limit(request: Request, what: str, per_minute: int) -> None:
    client = request.client.host if request.client else "unknown"
    try:
        request.app.state.rate_limiter.check(f"{what}:{client}", per_minute)
    except RateLimitedError as exc:
        raise RateLimitedError("Too many attempts from here. Please wait a minute.") from exc


def start_session(request: Request, response: Response, reference: str) -> SurvivorSession:
    """Sign the survivor in: a signed, HttpOnly, SameSite=Strict cookie (Secure in production)."""
    signer: SessionSigner = request.app.state.session_signer
    cookie, survivor = signer.issue(reference)
    response.set_cookie(
        COOKIE, cookie, max_age=survivor_auth.SESSION_MAX_AGE_S, httponly=True,
        samesite="strict", secure=request.app.state.settings.env == "production", path="/",
    )  # fmt: skip
    return survivor


@router.post("/reports", status_code=201, summary="Tell us what happened")
def file_report(
    body: ReportIn, request: Request, response: Response, session: SessionDep
) -> ReportOut:
    """Start a case. The answer holds the case reference: keep it safe with your PIN; we
    cannot recover it for you, because we do not ask who you are."""
    _limit(request, "report", 10)
    survivor_auth.check_pin_format(body.pin)
    filed = cases.file_report(session, request.app.state.keyring, body.answers)
    survivor_auth.set_pin(session, filed.case_reference, body.pin)
    start_session(request, response, filed.case_reference)
    return ReportOut(
        reference=filed.case_reference,
        report_id=filed.report_id,
        message=(
            f"Thank you. Your case reference is {filed.case_reference}. Please keep it "
            "somewhere safe with your PIN: together they let you see how things are going. "
            "We cannot recover the reference for you."
        ),
    )


@router.post("/survivor/session", summary="Sign in with your case reference and PIN")
def sign_in(body: SignIn, request: Request, response: Response, session: SessionDep) -> SignedIn:
    _limit(request, "sign-in", 20)
    try:
        reference = survivor_auth.sign_in(session, body.reference, body.pin)
    except SignInError:
        session.commit()  # the failed attempt counts towards the lockout
        raise
    return SignedIn(csrf_token=start_session(request, response, reference).csrf_token)


@router.delete("/survivor/session", status_code=204, summary="Sign out")
def sign_out(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/")


def signed_in(request: Request, cookie: str | None) -> SurvivorSession:
    survivor: SurvivorSession = request.app.state.session_signer.read(cookie)
    return survivor


@router.post("/survivor/fingerprints", summary="Add fingerprints made on your device")
def add_fingerprints(
    body: FingerprintsIn,
    request: Request,
    session: SessionDep,
    index: IndexDep,
    chorus_survivor: Annotated[str | None, Cookie()] = None,
    x_csrf_token: Annotated[str | None, Header()] = None,
) -> FingerprintsOut:
    """Only fingerprints arrive here (made by the registration page or `chorus hash`)."""
    survivor = signed_in(request, chorus_survivor)
    survivor.check_csrf(x_csrf_token)
    added, refused = 0, []
    for number, record in enumerate(body.fingerprints, start=1):
        try:
            with session.begin_nested():
                bank.register(
                    session, owner_id=survivor.reference, provenance="survivor_device",
                    signals=SignalInput.from_record(record),
                    actor=f"survivor:{survivor.reference}", keys=request.app.state.keyring,
                )  # fmt: skip
            added += 1
        except (ChorusError, ValueError) as exc:
            name = str(record.get("name") or record.get("path") or f"#{number}")[:200]
            message = exc.message if isinstance(exc, ChorusError) else "not a fingerprint record"
            refused.append({"name": name, "message": message})
    index.invalidate()
    return FingerprintsOut(added=added, refused=refused)
