"""Evidence keys: the ledger's Ed25519 signing key, the master key, and per-case data keys.

Each scope (a case, or ``system``) has its own AES-256 data key, stored only wrapped by the
master key (AES key wrap, RFC 3394). Captures and event payloads of the scope are
encrypted with it (AES-GCM, the record's identity as associated data). Destroying the
wrapped key crypto-shreds everything of that scope at once; the ledger keeps only digests.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap
from sqlalchemy import select
from sqlalchemy.orm import Session

from chorus.config import Settings
from chorus.errors import EvidenceKeyError, EvidenceShreddedError
from chorus.evidence.models import DataKey
from chorus.evidence.offline.ed25519 import key_id
from chorus.store.base import utcnow

DEV_KEYS_FILE = "dev-keys.json"


def _decode_key(value: str, name: str) -> bytes:
    try:
        raw = base64.b64decode(value.strip() + "=" * (-len(value.strip()) % 4), altchars=b"-_")
    except (binascii.Error, ValueError) as exc:
        raise EvidenceKeyError(f"{name} is not valid base64.") from exc
    if len(raw) != 32:
        raise EvidenceKeyError(f"{name} must be 32 bytes (base64); it has {len(raw)}.")
    return raw


def new_key_b64() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def _dev_keys(settings: Settings) -> dict[str, str]:
    """Development only: keys kept in the data folder so captures survive restarts."""
    path = Path(settings.data_dir) / DEV_KEYS_FILE
    if path.exists():
        keys: dict[str, str] = json.loads(path.read_text())
        return keys
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = {"signing_key": new_key_b64(), "master_key": new_key_b64()}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(keys, handle)
    return keys


def _setting(settings: Settings, name: str) -> str:
    value = getattr(settings, name)
    if value is not None and value.get_secret_value().strip():
        return str(value.get_secret_value())
    if settings.env == "development":
        return _dev_keys(settings)[name.removeprefix("evidence_")]
    raise EvidenceKeyError(
        f"CHORUS_{name.upper()} is not set. Generate evidence keys with: chorus evidence keygen"
    )


@dataclass(frozen=True)
class SigningKey:
    private: Ed25519PrivateKey
    public: bytes

    @property
    def key_id(self) -> str:
        return key_id(self.public)

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)


def signing_key(settings: Settings) -> SigningKey:
    seed = _decode_key(_setting(settings, "evidence_signing_key"), "CHORUS_EVIDENCE_SIGNING_KEY")
    private = Ed25519PrivateKey.from_private_bytes(seed)
    return SigningKey(private, private.public_key().public_bytes_raw())


def trusted_public_keys(settings: Settings) -> dict[str, bytes]:
    """Key id -> public key for the current signing key and every listed earlier one."""
    keys = {signing_key(settings).key_id: signing_key(settings).public}
    for value in settings.evidence_trusted_public_keys:
        public = _decode_key(value, "CHORUS_EVIDENCE_TRUSTED_PUBLIC_KEYS entry")
        keys[key_id(public)] = public
    return keys


class KeyRing:
    """Master keys (current first) and the data keys they wrap."""

    def __init__(self, settings: Settings) -> None:
        current = _decode_key(
            _setting(settings, "evidence_master_key"), "CHORUS_EVIDENCE_MASTER_KEY"
        )
        self._masters = {self._id(current): current}
        for old in settings.evidence_previous_master_keys:
            raw = _decode_key(old.get_secret_value(), "CHORUS_EVIDENCE_PREVIOUS_MASTER_KEYS")
            self._masters.setdefault(self._id(raw), raw)
        self.current_id = self._id(current)

    @staticmethod
    def _id(master: bytes) -> str:
        return hashlib.sha256(b"chorus-master-key-id" + master).hexdigest()[:16]

    def data_key(self, session: Session, scope: str, *, create: bool = True) -> bytes:
        """The scope's data key; made (and stored wrapped) on first use."""
        row = session.get(DataKey, scope)
        if row is None:
            if not create:
                raise EvidenceShreddedError(f"Nothing is stored for {scope}.")
            key = secrets.token_bytes(32)
            wrapped = aes_key_wrap(self._masters[self.current_id], key)
            session.add(DataKey(scope=scope, wrapped_key=wrapped, master_key_id=self.current_id))
            session.flush()
            return key
        if row.wrapped_key is None or row.master_key_id is None:
            raise EvidenceShreddedError(
                "This information was deleted at the survivor's request and can no longer be "
                "read. The ledger still shows that it existed and when it was deleted."
            )
        master = self._masters.get(row.master_key_id)
        if master is None:
            raise EvidenceKeyError(
                f"The data key of {scope} is wrapped by master key {row.master_key_id}, which "
                "is not configured (add it to CHORUS_EVIDENCE_PREVIOUS_MASTER_KEYS)."
            )
        try:
            return aes_key_unwrap(master, row.wrapped_key)
        except InvalidUnwrap as exc:
            raise EvidenceKeyError(f"The data key of {scope} could not be unwrapped.") from exc

    def destroy(self, session: Session, scope: str) -> bool:
        """Crypto-shred a scope: its wrapped data key is overwritten. True if there was one."""
        row = session.get(DataKey, scope)
        if row is None or row.wrapped_key is None:
            return False
        row.wrapped_key = None
        row.master_key_id = None
        row.destroyed_at = utcnow()
        session.flush()
        return True

    def rewrap_all(self, session: Session) -> int:
        """Re-wrap every live data key under the current master key (after a rotation)."""
        count = 0
        for row in session.scalars(select(DataKey).where(DataKey.wrapped_key.is_not(None))):
            if row.master_key_id == self.current_id:
                continue
            key = self.data_key(session, row.scope)
            row.wrapped_key = aes_key_wrap(self._masters[self.current_id], key)
            row.master_key_id = self.current_id
            count += 1
        session.flush()
        return count


def seal(key: bytes, plaintext: bytes, context: str) -> tuple[bytes, bytes]:
    """AES-256-GCM: (nonce, ciphertext) bound to ``context`` (what the record is)."""
    nonce = secrets.token_bytes(12)
    return nonce, AESGCM(key).encrypt(nonce, plaintext, context.encode())


def unseal(key: bytes, nonce: bytes, ciphertext: bytes, context: str) -> bytes:
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, context.encode())
    except InvalidTag as exc:
        raise EvidenceKeyError(
            f"Stored evidence ({context}) failed its integrity check: it was altered or moved."
        ) from exc
