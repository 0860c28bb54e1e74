"""Domain errors.

Every error Chorus raises on purpose is a :class:`ChorusError`. Each domain has its own small
family so the edges (``web/`` and ``cli/``) can map them to HTTP problem details or exit codes
without knowing the details. The message is written for a person: it says what went wrong
and what they can do about it, and never contains image content or a survivor's identity.

This module imports nothing but the standard library, so every package may import it,
including ``chorus.fingerprint`` (which otherwise depends on no other part of Chorus).
"""

from __future__ import annotations


class ChorusError(Exception):
    """Base of every error Chorus raises deliberately."""

    #: A stable machine-readable code (used in API problem details and CLI records).
    code: str = "chorus_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(ChorusError):
    """The settings are missing something or are unsafe for this environment."""

    code = "config_error"


class FingerprintError(ChorusError):
    """Media could not be fingerprinted (unreadable, hostile, too large, too slow)."""

    code = "fingerprint_error"


class UnreadableMediaError(FingerprintError):
    """Empty, truncated or corrupt file, or not a supported image format."""

    code = "unreadable_media"


class MediaTooLargeError(FingerprintError):
    """The file or its pixel count is over the configured limit (e.g. a decompression bomb)."""

    code = "media_too_large"


class DecodeTimeoutError(FingerprintError):
    """Decoding took longer than the configured limit (a file crafted to stall decoders)."""

    code = "decode_timeout"


class InvalidSignalError(FingerprintError):
    """A hash value is malformed (wrong length, not hexadecimal)."""

    code = "invalid_signal"


class MatchingError(ChorusError):
    """The hash bank or a lookup refused a request."""

    code = "matching_error"


class LowQualitySignalError(MatchingError):
    """A PDQ hash whose quality is too low to bank."""

    code = "low_quality_signal"


class BankEntryNotFoundError(MatchingError):
    """No bank entry has that id."""

    code = "bank_entry_not_found"


class LocalFeaturesSealError(MatchingError):
    """Banked local features could not be sealed or opened (no key ring, a key that is not
    configured, or a row altered or moved to another entry)."""

    code = "local_features_sealed"


class SecurityError(ChorusError):
    """Authentication or authorisation failed."""

    code = "security_error"


class InvalidApiKeyError(SecurityError):
    """The API key is missing, unknown or revoked."""

    code = "invalid_api_key"


class ScopeError(SecurityError):
    """The API key is valid but not allowed to do this."""

    code = "insufficient_scope"


class RateLimitedError(SecurityError):
    """Too many requests with this API key; try again shortly."""

    code = "rate_limited"


class AccessDeniedError(SecurityError):
    """The signed-in person's role does not allow this (e.g. viewing evidence captures)."""

    code = "access_denied"


class EvidenceError(ChorusError):
    """The evidence ledger, a capture or a bundle refused a request."""

    code = "evidence_error"


class LedgerIntegrityError(EvidenceError):
    """The live ledger does not verify: an entry, node or tree head was altered or lost."""

    code = "ledger_integrity"


class CaptureNotFoundError(EvidenceError):
    """No capture has that id."""

    code = "capture_not_found"


class CaptureTooLargeError(EvidenceError):
    """A capture is over the configured size limit."""

    code = "capture_too_large"


class EvidenceShreddedError(EvidenceError):
    """The data was deleted at the survivor's request (its key was destroyed)."""

    code = "evidence_shredded"


class EvidenceKeyError(EvidenceError):
    """A signing or master key is missing, malformed, or not the one the data needs."""

    code = "evidence_key"


class ExportScopeError(EvidenceError):
    """An export named no case or series, or one with nothing recorded."""

    code = "export_scope"


class TimestampError(EvidenceError):
    """The RFC 3161 timestamp authority could not be reached or gave an unusable answer."""

    code = "timestamp_error"


class MonitorError(ChorusError):
    """The monitor could not fetch or read something (each is skipped with this reason)."""

    code = "monitor_error"


class FetchRefusedError(MonitorError):
    """A URL Chorus will not fetch: a private address, a blocked service, robots.txt."""

    code = "fetch_refused"


class FetchFailedError(MonitorError):
    """A fetch failed or broke a limit: too big, too slow, too many redirects, bad status."""

    code = "fetch_failed"


class SightingReviewError(MonitorError):
    """A review decision that cannot be taken: no such sighting, not held, no reason."""

    code = "sighting_review"


class SightingHeldError(MonitorError):
    """A sighting still waiting for (or refused at) a caseworker's review was asked for."""

    code = "sighting_held"


class CasesError(ChorusError):
    """A report, classification or link was refused."""

    code = "cases_error"


class CaseStateError(CasesError):
    """The case is not in a state that allows this (e.g. closing a case already closed)."""

    code = "case_state"


class SignInError(SecurityError):
    """A case reference and PIN did not match (never says which), or too many attempts."""

    code = "sign_in_failed"


class SessionError(SecurityError):
    """No valid signed-in session, or its CSRF token is missing or wrong."""

    code = "session_required"


class StaffAccountError(SecurityError):
    """A staff account could not be made or changed (bad username, weak password, unknown)."""

    code = "staff_account"


class TakedownError(ChorusError):
    """A takedown step was refused: discovery, a notice, a send or a state change."""

    code = "takedown_error"


class DiscoveryError(TakedownError):
    """Recipients could not be worked out for a URL (each failed source is skipped)."""

    code = "discovery_error"


class NoticeIncompleteError(TakedownError):
    """A notice lacks an element its legal regime requires; the message names each one."""

    code = "notice_incomplete"


class SendError(TakedownError):
    """A notice could not be sent (the mail server refused, no address to send to)."""

    code = "send_error"
