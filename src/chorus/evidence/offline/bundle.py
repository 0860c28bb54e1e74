"""Check an evidence bundle offline: needs Python only, no database, no Chorus settings.

Reports every problem it finds, each with a code and the file it concerns, rather than
stopping at the first: a court (or a defence expert) should learn exactly what is wrong.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import ed25519
from .proofs import leaf_hash, payload_digest, verify_inclusion

MANIFEST = "manifest.json"
MANIFEST_SIG = "manifest.sig"
PUBLIC_KEY = "ledger/public_key.pem"
TREE_HEAD = "ledger/tree_head.json"
TREE_HEAD_SIG = "ledger/tree_head.sig"
ENTRIES = "ledger/entries.jsonl"
PROOFS = "ledger/proofs.json"
PAYLOADS = "ledger/payloads.jsonl"
TIMESTAMP = "timestamp/manifest.tsr"
UNLISTED_OK = {MANIFEST, MANIFEST_SIG, TIMESTAMP}
CAPTURE_STORED = "evidence:capture:stored"
_SPKI_ED25519 = bytes.fromhex("302a300506032b6570032100")
_MAX_MEMBER = 4 * 1024**3
_MAX_TOTAL = 16 * 1024**3


@dataclass(frozen=True)
class Problem:
    code: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"[{self.code}] {self.path}: {self.message}"


@dataclass
class BundleReport:
    problems: list[Problem] = field(default_factory=list)
    key_id: str = ""
    tree_size: int = 0
    entries: int = 0
    captures: int = 0
    timestamped: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, code: str, path: str, message: str) -> None:
        self.problems.append(Problem(code, path, message))


def public_key_from_pem(text: str) -> bytes:
    """The raw 32-byte Ed25519 key inside a PEM 'PUBLIC KEY' block."""
    lines = [ln.strip() for ln in text.strip().splitlines()]
    if (
        not lines
        or lines[0] != "-----BEGIN PUBLIC KEY-----"
        or lines[-1] != ("-----END PUBLIC KEY-----")
    ):
        raise ValueError("not a PEM public key")
    der = base64.b64decode("".join(lines[1:-1]), validate=True)
    if len(der) != 44 or not der.startswith(_SPKI_ED25519):
        raise ValueError("not an Ed25519 public key")
    return der[12:]


def public_key_to_pem(raw: bytes) -> str:
    body = base64.b64encode(_SPKI_ED25519 + raw).decode()
    return f"-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----\n"


class _Files:
    """The bundle's files, from a zip file or an unpacked folder."""

    def __init__(self, source: Path) -> None:
        self.files: dict[str, bytes] = {}
        if source.is_dir():
            for path in sorted(source.rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    self.files[path.relative_to(source).as_posix()] = path.read_bytes()
            return
        with zipfile.ZipFile(source) as archive:
            declared = sum(info.file_size for info in archive.infolist())
            if declared > _MAX_TOTAL:
                raise ValueError(f"it would expand to {declared:,} bytes, more than any bundle")
            for info in archive.infolist():
                if info.is_dir():
                    continue
                if info.file_size > _MAX_MEMBER:
                    raise ValueError(f"{info.filename} is too large to be part of a bundle")
                self.files[info.filename] = archive.read(info)

    def get(self, name: str) -> bytes | None:
        return self.files.get(name)


def _json(report: BundleReport, files: _Files, name: str) -> Any:
    data = files.get(name)
    if data is None:
        report.add("file_missing", name, "this file is missing")
        return None
    try:
        return json.loads(data)
    except ValueError:
        report.add("file_unreadable", name, "this file is not valid JSON")
        return None


def _lines(data: bytes) -> Iterator[tuple[int, bytes]]:
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line.strip():
            yield number, line


def verify_bundle(source: Path, pinned_key: bytes | None = None) -> BundleReport:
    """Check every signature, digest and proof in the bundle at ``source`` (zip or folder)."""
    report = BundleReport()
    try:
        files = _Files(source)
    except (OSError, zipfile.BadZipFile, ValueError) as exc:
        report.add("bundle_unreadable", str(source), f"cannot be read as a bundle ({exc})")
        return report

    # 1. The key, and the manifest's signature.
    key = b""
    pem = files.get(PUBLIC_KEY)
    if pem is None:
        report.add("file_missing", PUBLIC_KEY, "the public key is missing")
    else:
        try:
            key = public_key_from_pem(pem.decode("ascii", "replace"))
            report.key_id = ed25519.key_id(key)
        except (ValueError, binascii.Error):
            report.add("key_unreadable", PUBLIC_KEY, "not an Ed25519 public key in PEM form")
    if pinned_key is not None and key and key != pinned_key:
        report.add(
            "untrusted_key", PUBLIC_KEY,
            f"signed with key {report.key_id}, not the key you gave ({ed25519.key_id(pinned_key)})",
        )  # fmt: skip
    manifest_bytes = files.get(MANIFEST) or b""
    signature = files.get(MANIFEST_SIG) or b""
    if key and not ed25519.verify(key, manifest_bytes, signature):
        report.add(
            "manifest_signature", f"{MANIFEST} + {MANIFEST_SIG}",
            "the manifest's signature does not verify",
        )  # fmt: skip
    manifest = _json(report, files, MANIFEST) or {}

    # 2. Every listed file is present and unchanged; nothing else was added.
    listed = {}
    for item in manifest.get("files", []):
        listed[item["path"]] = item
        data = files.get(item["path"])
        if data is None:
            report.add("file_missing", item["path"], "listed in the manifest but missing")
        elif hashlib.sha256(data).hexdigest() != item["sha256"] or len(data) != item["size"]:
            report.add("file_altered", item["path"], "its SHA-256 differs from the manifest")
    for name in sorted(files.files.keys() - listed.keys() - UNLISTED_OK):
        report.add("file_unlisted", name, "this file is not in the manifest")

    # 3. The tree head: signed by the bundle's key, and the one the manifest names.
    head_bytes = files.get(TREE_HEAD) or b""
    if key and not ed25519.verify(key, head_bytes, files.get(TREE_HEAD_SIG) or b""):
        report.add(
            "tree_head_signature", f"{TREE_HEAD} + {TREE_HEAD_SIG}",
            "the tree head's signature does not verify",
        )  # fmt: skip
    head = _json(report, files, TREE_HEAD) or {}
    tree_size = head.get("tree_size", -1)
    report.tree_size = max(tree_size, 0)
    try:
        root = bytes.fromhex(head.get("root_hash", ""))
    except ValueError:
        root = b""
    if head and (
        manifest.get("tree_size") != tree_size or manifest.get("root_hash") != head.get("root_hash")
    ):
        report.add("tree_head_mismatch", TREE_HEAD, "the manifest names a different tree head")
    if head and key and head.get("key_id") != ed25519.key_id(key):
        report.add("tree_head_mismatch", TREE_HEAD, "signed by a key other than the bundle's")

    # 4. Entries: in order, as listed, each proven to be in the signed tree.
    proofs = (_json(report, files, PROOFS) or {}).get("proofs", {})
    entries: dict[int, dict[str, Any]] = {}
    last = -1
    for number, line in _lines(files.get(ENTRIES) or b""):
        try:
            entry = json.loads(line)
            seq = int(entry["seq"])
        except (ValueError, KeyError, TypeError):
            report.add("entry_unreadable", ENTRIES, f"line {number} is not a ledger entry")
            continue
        if seq <= last:
            report.add(
                "entries_out_of_order", ENTRIES, f"entry {seq} (line {number}) is out of order"
            )
        last = max(last, seq)
        entries[seq] = entry
        path = proofs.get(str(seq))
        if path is None:
            report.add("proof_missing", PROOFS, f"no inclusion proof for entry {seq}")
            continue
        try:
            nodes = [bytes.fromhex(p) for p in path]
        except (ValueError, TypeError):
            nodes = []
        if not verify_inclusion(seq, tree_size, leaf_hash(line), nodes, root):
            report.add(
                "proof_invalid", PROOFS, f"entry {seq} is not proven to be in the signed tree"
            )
    report.entries = len(entries)
    expected = set(manifest.get("entries", []))
    for seq in sorted(expected - entries.keys()):
        report.add("entry_missing", ENTRIES, f"entry {seq} is listed in the manifest but missing")
    for seq in sorted(entries.keys() - expected):
        report.add("entry_unlisted", ENTRIES, f"entry {seq} is not listed in the manifest")

    # 5. Payloads match the digests the entries carry.
    payloads: dict[int, Any] = {}
    for number, line in _lines(files.get(PAYLOADS) or b""):
        try:
            record = json.loads(line)
            seq, salt = int(record["seq"]), bytes.fromhex(record["salt"])
        except (ValueError, KeyError, TypeError):
            report.add("payload_unreadable", PAYLOADS, f"line {number} is not a payload record")
            continue
        entry = entries.get(seq)
        if entry is None or entry.get("payload_sha256") != payload_digest(salt, record["payload"]):
            report.add("payload_altered", PAYLOADS, f"the payload of entry {seq} does not match it")
            continue
        payloads[seq] = record["payload"]

    # 6. Each original capture is the one recorded in the ledger when it was stored.
    for capture in manifest.get("captures", []):
        report.captures += 1
        data = files.get(capture["original"])
        recorded = [
            payloads[s]
            for s, e in entries.items()
            if e.get("action") == CAPTURE_STORED
            and capture["id"] in e.get("subjects", {}).get("capture", [])
            and s in payloads
        ]
        if not recorded:
            report.add(
                "capture_unrecorded", capture["original"], "no ledger entry records this capture"
            )
        elif data is not None and hashlib.sha256(data).hexdigest() != recorded[0].get("sha256"):
            report.add(
                "capture_mismatch",
                capture["original"],
                "differs from the capture the ledger recorded",
            )

    # 7. The timestamp token, if any, covers this manifest.
    token = files.get(TIMESTAMP)
    if token is not None:
        report.timestamped = True
        if hashlib.sha256(manifest_bytes).digest() not in token:
            report.add(
                "timestamp_mismatch", TIMESTAMP, "the timestamp token is for another manifest"
            )
    return report
