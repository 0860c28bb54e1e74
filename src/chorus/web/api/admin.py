"""Operator endpoints: API keys (scope `admin`) and bank entries (scope `bank`)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from chorus.matching import bank
from chorus.matching.bank import SignalInput
from chorus.matching.signals import LocalSignal
from chorus.security import api_keys
from chorus.web.api.deps import AdminKey, BankKey, IndexDep, SessionDep

router = APIRouter(prefix="/api/v1", tags=["operators"])

Scope = Literal["lookup", "exchange", "feedback", "bank", "admin"]


class KeyIn(BaseModel):
    name: str = Field(min_length=1, max_length=200, examples=["Example Platform"])
    scopes: list[Scope] = Field(min_length=1, examples=[["lookup", "exchange", "feedback"]])
    rate_limit_per_minute: int = Field(default=api_keys.DEFAULT_RATE_LIMIT, ge=1, le=100_000)


class NewKeyOut(BaseModel):
    key_id: str
    token: str = Field(description="Shown this once only: store it safely")


class KeyOut(BaseModel):
    key_id: str
    name: str
    scopes: list[str]
    rate_limit_per_minute: int
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


@router.post("/keys", summary="Create an API key", status_code=201)
def create_key(body: KeyIn, session: SessionDep, _admin: AdminKey) -> NewKeyOut:
    key = api_keys.create_key(session, body.name, body.scopes, body.rate_limit_per_minute)
    return NewKeyOut(key_id=key.key_id, token=key.token)


@router.get("/keys", summary="List API keys (never their secrets)")
def list_keys(session: SessionDep, _admin: AdminKey) -> list[KeyOut]:
    return [
        KeyOut(
            key_id=k.key_id,
            name=k.name,
            scopes=k.scopes.split(","),
            rate_limit_per_minute=k.rate_limit_per_minute,
            created_at=k.created_at,
            revoked_at=k.revoked_at,
            last_used_at=k.last_used_at,
        )
        for k in api_keys.list_keys(session)
    ]


@router.delete("/keys/{key_id}", summary="Revoke an API key", status_code=204)
def revoke_key(key_id: str, session: SessionDep, _admin: AdminKey) -> None:
    api_keys.revoke_key(session, key_id)


class EntryIn(BaseModel):
    owner_id: str = Field(min_length=1, max_length=64, description="Opaque id of the case")
    provenance: Literal["survivor_device", "caseworker", "exchange_import"] = "caseworker"
    pdq: str | None = Field(default=None, max_length=64)
    quality: int | None = Field(default=None, ge=0, le=100)
    dihedral: list[str] = Field(default_factory=list, max_length=8)
    sha256: str | None = Field(default=None, max_length=64)
    md5: str | None = Field(default=None, max_length=32)
    robust: list[tuple[str, str]] = Field(
        default_factory=list,
        max_length=64,
        description="The robust signal's bank codes as [variant, code] pairs, as in the "
        "`robust.bank` field of a `chorus hash` record. Kept on this server only.",
    )
    local: str | None = Field(
        default=None,
        max_length=LocalSignal.max_length,
        description="The local signal's bank features (base64), as in the `local.bank` field "
        "of a `chorus hash` record. Kept on this server only.",
    )


class EntryOut(BaseModel):
    id: str
    status: str


@router.post("/bank/entries", summary="Bank a fingerprint", status_code=201)
def add_entry(
    body: EntryIn, request: Request, session: SessionDep, index: IndexDep, key: BankKey
) -> EntryOut:
    """Register fingerprints made on the survivor's device (e.g. by `chorus hash`).
    Only fingerprints: an image is never sent."""
    entry = bank.register(
        session,
        owner_id=body.owner_id,
        provenance=body.provenance,
        signals=SignalInput(
            pdq=body.pdq,
            quality=body.quality,
            dihedral=body.dihedral,
            sha256=body.sha256,
            md5=body.md5,
            robust=body.robust,
            local=body.local,
        ),
        actor=f"apikey:{key.key_id}",
        keys=request.app.state.keyring,
    )
    session.commit()
    index.invalidate()
    return EntryOut(id=entry.public_id, status=entry.status)


class WithdrawIn(BaseModel):
    reason: str = Field(default="withdrawn", max_length=500)


@router.post("/bank/entries/{entry_id}/withdraw", summary="Withdraw a banked fingerprint")
def withdraw_entry(entry_id: str, body: WithdrawIn, session: SessionDep, key: BankKey) -> EntryOut:
    """Out of matching at once, and a deletion in the partners' feed."""
    entry = bank.withdraw(session, entry_id, body.reason, actor=f"apikey:{key.key_id}")
    return EntryOut(id=entry.public_id, status=entry.status)
