"""Partner endpoints: lookups, the exchange feed, feedback. Partners see opaque ids only."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, model_validator

from chorus.matching import exchange
from chorus.matching.local_bank import LOCAL_RADIUS, MAX_LOCAL_QUERIES
from chorus.matching.lookup import lookup
from chorus.matching.signals import LocalSignal
from chorus.web.api.deps import (
    ExchangeKey,
    FeedbackKey,
    IndexDep,
    LookupKey,
    PolicyDep,
    SessionDep,
)

router = APIRouter(prefix="/api/v1", tags=["partners"])

MAX_BATCH = 1000
HMA_BANK_NAME = "CHORUS"
#: Longest value of every signal type but ``local`` (hex digests and codes).
MAX_VALUE = 128


class SignalIn(BaseModel):
    signal_type: Literal["pdq", "robust", "robust_half", "local", "sha256", "md5"] = Field(
        examples=["pdq"],
        description="`robust`: one of the `robust.query` codes of a `chorus hash` record "
        "(Chorus's own robust signal, whole-region codes; matched within 40 bits). "
        "`robust_half`: one of its `robust.query_half` codes (half-frame codes; matched "
        "within 36 bits, against half-frame codes only). "
        "`local`: one of the `local.query` feature sets of a `chorus hash` record (base64, "
        f"at most {LocalSignal.max_length:,} characters; Chorus's local signal: corners "
        "that must agree on one placement of the photo, so off-centre crops are found; "
        f"at most {MAX_LOCAL_QUERIES} per request).",
    )
    value: str = Field(
        max_length=LocalSignal.max_length,
        description=f"Hexadecimal for every type but `local` (at most {MAX_VALUE} "
        "characters); base64 text for `local`.",
        examples=["f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"],
    )

    @model_validator(mode="after")
    def _bounded(self) -> SignalIn:
        if self.signal_type != "local" and len(self.value) > MAX_VALUE:
            raise ValueError(f"A {self.signal_type} value is at most {MAX_VALUE} characters.")
        return self


class LookupRequest(BaseModel):
    signals: list[SignalIn] = Field(min_length=1, max_length=MAX_BATCH)


class MatchOut(BaseModel):
    id: str = Field(description="Opaque bank entry id")
    signal_type: str = Field(
        description="Which signal matched: pdq, robust, robust_half, local, sha256 or md5"
    )
    distance: int = Field(
        description="Bits apart (0 for sha256 and md5): lower is stronger. For `local`, the "
        "share (%) of the photo's corners expected inside the copy that did not agree "
        f"(at most {LOCAL_RADIUS})"
    )
    radius: int = Field(description="The largest distance this signal type matches at")
    inliers: int | None = Field(
        default=None, description="How many of the photo's corners agree (`local`; else null)"
    )


class LookupResultOut(BaseModel):
    signal_type: str
    value: str
    matches: list[MatchOut]
    error: str | None = None


class LookupResponse(BaseModel):
    results: list[LookupResultOut]


@router.post("/lookup", summary="Look up a batch of signals")
def lookup_batch(
    body: LookupRequest, session: SessionDep, index: IndexDep, key: LookupKey, policy: PolicyDep
) -> LookupResponse:
    """For each signal, every active bank entry that matches (PDQ within distance 31,
    robust codes within 40, robust half-frame codes within 36, local features when enough
    corners agree, SHA-256 and MD5 exactly), with the signal type that matched and its
    distance. A malformed signal gets an `error`; the others still run."""
    results = lookup(
        session,
        index,
        [(s.signal_type, s.value) for s in body.signals],
        actor=f"api_key:{key.key_id}",
        endpoint="lookup",
        api_key_id=key.id,
        policy=policy,
    )
    return LookupResponse(
        results=[
            LookupResultOut(
                signal_type=r.signal_type,
                value=r.value,
                error=r.error,
                matches=[
                    MatchOut(
                        id=m.entry_id,
                        signal_type=m.signal_type,
                        distance=m.distance,
                        radius=m.radius,
                        inliers=m.inliers,
                    )
                    for m in r.matches
                ],
            )
            for r in results
        ]
    )


class HmaMatch(BaseModel):
    bank_content_id: str
    distance: str


@router.get(
    "/lookup",
    summary="Look up one signal (HMA /m/lookup compatible)",
    response_model=dict[str, list[HmaMatch]],
)
def lookup_one(
    session: SessionDep,
    index: IndexDep,
    key: LookupKey,
    policy: PolicyDep,
    signal_type: Annotated[Literal["pdq", "sha256", "md5"], Query()],
    signal: Annotated[str, Query(max_length=128)],
) -> dict[str, list[HmaMatch]]:
    """Shaped like Hasher-Matcher-Actioner's `GET /m/lookup?signal_type=..&signal=..`:
    `{"CHORUS": [{"bank_content_id": ..., "distance": "4"}]}`."""
    (result,) = lookup(
        session,
        index,
        [(signal_type, signal)],
        actor=f"api_key:{key.key_id}",
        endpoint="lookup_get",
        api_key_id=key.id,
    )
    if result.error:
        from chorus.errors import InvalidSignalError

        raise InvalidSignalError(result.error)
    return {
        HMA_BANK_NAME: [
            HmaMatch(bank_content_id=m.entry_id, distance=str(m.distance)) for m in result.matches
        ]
    }


class FeedSignalOut(BaseModel):
    signal_type: str
    value: str
    variant: str | None


class FeedChangeOut(BaseModel):
    op: Literal["add", "delete"]
    id: str
    at: datetime
    signals: list[FeedSignalOut]


class FeedPageOut(BaseModel):
    changes: list[FeedChangeOut]
    checkpoint: str = Field(description="Pass this back to get the next changes")
    has_more: bool


@router.get("/exchange/signals", summary="Changes to the bank since a checkpoint")
def exchange_signals(
    session: SessionDep,
    key: ExchangeKey,
    checkpoint: Annotated[str | None, Query(max_length=32)] = None,
    page_size: Annotated[int, Query(ge=1, le=exchange.MAX_PAGE)] = 500,
) -> FeedPageOut:
    """Additions and deletions (withdrawals, quarantines) in order. Start without a
    checkpoint; repeat with the returned one while `has_more` is true."""
    page = exchange.feed(session, checkpoint, page_size)
    return FeedPageOut(
        checkpoint=page.checkpoint,
        has_more=page.has_more,
        changes=[
            FeedChangeOut(
                op=c.op,  # type: ignore[arg-type]
                id=c.entry_id,
                at=c.at,
                signals=[FeedSignalOut(**s.__dict__) for s in c.signals],
            )
            for c in page.changes
        ],
    )


class FeedbackIn(BaseModel):
    id: str = Field(max_length=40, description="The bank entry id that matched")
    verdict: Literal["blocked", "not_blocked", "false_positive"]
    signal: SignalIn | None = Field(
        default=None, description="The signal of your item that matched (optional)"
    )


class FeedbackOut(BaseModel):
    recorded: bool


@router.post("/feedback", summary="Your verdict on a match")
def feedback(
    body: FeedbackIn, session: SessionDep, key: FeedbackKey, policy: PolicyDep
) -> FeedbackOut:
    """Tell Chorus what you did with a match. False positives count toward holding an entry
    for review."""
    exchange.record_feedback(
        session,
        entry_id=body.id,
        verdict=body.verdict,
        api_key_id=key.id,
        item=(body.signal.signal_type, body.signal.value) if body.signal else None,
        policy=policy,
    )
    return FeedbackOut(recorded=True)
