"""Court-ready export: one zip an investigator can hand over and anyone can check offline.

Layout of a bundle (the README inside says the same in plain words):

    README.txt                  what is inside, and how to verify it by hand or by script
    manifest.json / .sig        SHA-256 of every file, signed with the ledger key
    ledger/                     the signed tree head, the entries, their inclusion proofs,
                                their payloads, and the public key
    custody/custody_log.csv     who did what, when and why, for everything in the bundle
    captures/originals/         the captures exactly as stored (may show intimate images)
    captures/working/           working copies extracted from them, marked as such
    captures/records.json       URL, UTC time, Chorus version, HTTP headers of each capture
    exhibits.csv                exhibit labels, continuity_statement.txt a template
    verify/verify_bundle.py     the offline verifier (standard-library Python)
    timestamp/manifest.tsr      an RFC 3161 token over manifest.json, when configured
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import secrets
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chorus import __version__
from chorus.config import Settings
from chorus.errors import EvidenceShreddedError, ExportScopeError
from chorus.evidence import captures as capture_store
from chorus.evidence import ledger, texts, tree_heads
from chorus.evidence.keys import KeyRing, signing_key, unseal
from chorus.evidence.models import Capture
from chorus.evidence.offline.bundle import PUBLIC_KEY, public_key_to_pem
from chorus.evidence.tags import EventTag
from chorus.evidence.timestamp import request_timestamp
from chorus.evidence.warc import read_responses
from chorus.security.policy import Actor, Permission, require
from chorus.store.base import utcnow

_OFFLINE = Path(__file__).with_name("offline")
_FIXED_TIME = (2020, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class ExportResult:
    path: Path
    bundle_id: str
    entries: int
    captures: int
    tree_size: int
    manifest_sha256: str
    timestamped: bool


def series_cases(session: Session, series_id: str) -> list[str]:
    """Cases recorded as members of a series (from the ledger's series events)."""
    members: set[str] = set()
    seqs = ledger.seqs_about(session, "series", [series_id])
    for entry in ledger.entries(session, seqs):
        fields = entry.fields
        cases = fields["subjects"].get("case", [])
        if fields["action"] == EventTag.SERIES_MEMBER_REMOVED:
            members.difference_update(cases)
        else:
            members.update(cases)
    return sorted(members)


class _Bundle:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def add(self, path: str, data: bytes | str) -> None:
        self.files[path] = data.encode() if isinstance(data, str) else data

    def listing(self) -> list[dict[str, Any]]:
        return [
            {"path": p, "sha256": hashlib.sha256(d).hexdigest(), "size": len(d)}
            for p, d in sorted(self.files.items())
        ]


def _csv(rows: list[list[Any]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def _add_verifier(bundle: _Bundle) -> None:
    bundle.add("verify/verify_bundle.py", (_OFFLINE / "launcher.py").read_bytes())
    for name in ("__init__.py", "__main__.py", "bundle.py", "ed25519.py", "proofs.py"):
        bundle.add(f"verify/chorus_offline/{name}", (_OFFLINE / name).read_bytes())


def _add_captures(
    bundle: _Bundle, session: Session, keyring: KeyRing, case_refs: list[str], prefix: str
) -> tuple[list[dict[str, Any]], list[list[Any]]]:
    listed: list[dict[str, Any]] = []
    exhibits: list[list[Any]] = [["exhibit", "file", "sha256", "description"]]
    records = []
    scopes = [capture_store.case_scope(ref) for ref in case_refs]
    rows = session.scalars(
        select(Capture).where(Capture.scope.in_(scopes)).order_by(Capture.captured_at, Capture.id)
    )
    for row in rows:
        info = capture_store.CaptureInfo.of(row)
        if row.ciphertext is None or row.nonce is None:
            continue  # shredded at the survivor's request; the ledger still shows it existed
        try:
            key = keyring.data_key(session, row.scope, create=False)
        except EvidenceShreddedError:
            continue
        data = unseal(key, row.nonce, row.ciphertext, f"capture:{row.scope}:{row.public_id}")
        suffix = ".warc.gz" if info.kind == "warc" else "." + info.media_type.split("/")[-1]
        original = f"captures/originals/{info.public_id}{suffix}"
        bundle.add(original, data)
        label = f"{prefix}/{len(exhibits):03d}"
        exhibits.append(
            [label, original, info.sha256, f"Original {info.kind} capture {info.public_id}"]
        )
        record: dict[str, Any] = {
            "capture": info.public_id,
            "exhibit": label,
            "case": info.case_ref,
            "kind": info.kind,
            "original": original,
            "sha256": info.sha256,
            "size": info.size,
            "source_url": info.source_url,
            "captured_at_utc": info.captured_at.isoformat().replace("+00:00", "Z"),
            "chorus_version": info.chorus_version,
            "stored_by": info.added_by,
            "ledger_entry": info.ledger_seq,
            "responses": [],
        }
        if info.kind == "warc":
            for n, response in enumerate(read_responses(data), start=1):
                name = Path(response.url.split("?")[0].rstrip("/")).name or "page"
                working = f"captures/working/{info.public_id}/WORKING-COPY-{n:02d}-{name}"
                bundle.add(working, response.body)
                exhibits.append(
                    [f"{label}/{n}", working, hashlib.sha256(response.body).hexdigest(),
                     f"Working copy of {response.url}, extracted from {info.public_id}"]
                )  # fmt: skip
                record["responses"].append(
                    {
                        "url": response.url,
                        "fetched_at_utc": response.fetched_at,
                        "http_status": response.status,
                        "http_headers": response.headers,
                        "content_type": response.content_type,
                        "warc_record_id": response.record_id,
                        "working_copy": working,
                        "sha256": hashlib.sha256(response.body).hexdigest(),
                    }
                )
        else:
            working = f"captures/working/{info.public_id}/WORKING-COPY-{info.filename}"
            bundle.add(working, data)
            exhibits.append([f"{label}/1", working, info.sha256, "Working copy of the screenshot"])
        records.append(record)
        listed.append({"id": info.public_id, "original": original, "sha256": info.sha256})
    bundle.add("captures/records.json", json.dumps(records, indent=2, ensure_ascii=False))
    return listed, exhibits


def export_bundle(
    session: Session,
    settings: Settings,
    actor: Actor,
    out: Path,
    *,
    reason: str,
    case_refs: list[str] | None = None,
    series_id: str | None = None,
    exhibit_prefix: str = "CHR",
) -> ExportResult:
    """Write the bundle for some cases or a series to ``out`` and record the export."""
    require(actor, Permission.EXPORT_EVIDENCE)
    if not reason.strip():
        raise ExportScopeError("Say why the evidence is exported; the reason is recorded.")
    cases = sorted(set(case_refs or []))
    if series_id:
        cases = sorted(set(cases) | set(series_cases(session, series_id)))
    if not cases and not series_id:
        raise ExportScopeError("Name a case (--case) or a series (--series) to export.")
    keyring = KeyRing(settings)
    seqs = ledger.seqs_about(session, "case", cases)
    if series_id:
        seqs |= ledger.seqs_about(session, "series", [series_id])
    if not seqs:
        raise ExportScopeError("Nothing is recorded for that case or series.")
    head = tree_heads.sign(session, settings)
    chosen = ledger.entries(session, sorted(seqs))
    proofs = ledger.inclusion_proofs(session, [e.seq for e in chosen], head.tree_size)
    decrypted = ledger.payloads(session, keyring, [e.seq for e in chosen])

    bundle = _Bundle()
    bundle.add(PUBLIC_KEY, public_key_to_pem(head.public_key))
    bundle.add("ledger/tree_head.json", head.body)
    bundle.add("ledger/tree_head.sig", head.signature)
    bundle.add("ledger/entries.jsonl", "".join(e.body + "\n" for e in chosen))
    bundle.add(
        "ledger/proofs.json",
        json.dumps(
            {
                "tree_size": head.tree_size,
                "root_hash": head.root_hash.hex(),
                "algorithm": "RFC 9162 section 2.1.3 (SHA-256)",
                "proofs": {str(seq): [h.hex() for h in path] for seq, path in proofs.items()},
            },
            indent=1,
        ),
    )
    bundle.add(
        "ledger/payloads.jsonl",
        "".join(
            json.dumps({"seq": seq, **value}, ensure_ascii=False, sort_keys=True) + "\n"
            for seq, value in sorted(decrypted.items())
            if value is not None
        ),
    )
    custody: list[list[Any]] = [
        ["seq", "time_utc", "who", "action", "about", "why", "entry_leaf_sha256"]
    ]
    for entry in chosen:
        fields = entry.fields
        payload = (decrypted.get(entry.seq) or {}).get("payload") or {}
        about = "; ".join(f"{k}={','.join(v)}" for k, v in sorted(fields["subjects"].items()))
        custody.append(
            [entry.seq, fields["at"], fields["actor"], fields["action"], about,
             payload.get("reason", ""), entry.leaf_hash.hex()]
        )  # fmt: skip
    bundle.add("custody/custody_log.csv", _csv(custody))
    listed, exhibits = _add_captures(bundle, session, keyring, cases, exhibit_prefix)
    bundle.add("exhibits.csv", _csv(exhibits))
    bundle_id = f"BND-{secrets.token_hex(6).upper()}"
    scope = {"cases": cases, "series": series_id}
    bundle.add("continuity_statement.txt", texts.continuity_statement(bundle_id, exhibits))
    bundle.add("README.txt", texts.readme(bundle_id, head.key_id, scope, len(listed)))
    _add_verifier(bundle)

    manifest = json.dumps(
        {
            "format": "chorus-evidence-bundle",
            "version": 1,
            "bundle": bundle_id,
            "created_at_utc": utcnow().isoformat().replace("+00:00", "Z"),
            "chorus_version": __version__,
            "exported_by": actor.label,
            "reason": reason.strip(),
            "scope": scope,
            "key_id": head.key_id,
            "tree_size": head.tree_size,
            "root_hash": head.root_hash.hex(),
            "entries": [e.seq for e in chosen],
            "captures": listed,
            "files": bundle.listing(),
        },
        indent=1,
        ensure_ascii=False,
    ).encode()
    bundle.add("manifest.json", manifest)
    bundle.add("manifest.sig", signing_key(settings).sign(manifest))
    manifest_digest = hashlib.sha256(manifest).digest()
    if settings.evidence_tsa_url:
        token, _when = request_timestamp(
            settings.evidence_tsa_url, manifest_digest, timeout_s=settings.evidence_tsa_timeout_s
        )
        bundle.add("timestamp/manifest.tsr", token)
    _write_zip(bundle, out)

    for case in cases:
        ledger.append(
            session,
            EventTag.BUNDLE_EXPORTED,
            actor.label,
            {"case": case, "bundle": bundle_id, "capture": [c["id"] for c in listed]},
            {"reason": reason.strip(), "manifest_sha256": manifest_digest.hex()},
            keyring=keyring,  # system scope: an export stays on record after a deletion
        )
    return ExportResult(
        out, bundle_id, len(chosen), len(listed), head.tree_size, manifest_digest.hex(),
        settings.evidence_tsa_url is not None,
    )  # fmt: skip


def _write_zip(bundle: _Bundle, out: Path) -> None:
    """Write atomically (a temporary file renamed into place), readable by the owner only."""
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(f".{out.name}.{secrets.token_hex(4)}.part")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle, zipfile.ZipFile(handle, "w") as archive:
            for path, data in bundle.files.items():
                info = zipfile.ZipInfo(path, date_time=_FIXED_TIME)
                stored = path.startswith("captures/originals/")
                info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
                info.external_attr = 0o600 << 16
                archive.writestr(info, data)
        os.replace(temporary, out)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
