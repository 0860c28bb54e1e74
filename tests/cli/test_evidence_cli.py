"""`chorus evidence` as an operator and an investigator would run it."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

CHORUS = [sys.executable, "-m", "chorus.cli"]


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CHORUS_")}
    return subprocess.run(
        [*CHORUS, *args], capture_output=True, text=True, env={**clean, **env}, timeout=300
    )


def test_keys_capture_export_verify(database_url: str, photos: list[Path], tmp_path: Path) -> None:
    keygen = run({}, "evidence", "keygen")
    assert keygen.returncode == 0
    keys = dict(line.split("=", 1) for line in keygen.stdout.split())
    assert set(keys) == {"CHORUS_EVIDENCE_SIGNING_KEY", "CHORUS_EVIDENCE_MASTER_KEY"}
    env = {"CHORUS_DATABASE_URL": database_url}

    missing = run(env, "evidence", "add-capture", "--case", "C-1", "--by", "cw-3", str(photos[0]))
    assert missing.returncode == 1
    assert "CHORUS_EVIDENCE_MASTER_KEY is not set" in missing.stderr

    env.update(keys)
    added = run(env, "evidence", "add-capture", "--case", "C-1", "--by", "cw-3", str(photos[0]))
    assert added.returncode == 0, added.stderr
    capture_id = added.stdout.split()[0]
    assert capture_id.startswith("CAP-")
    refused = run(env, "evidence", "add-capture", "--case", "C-1", "--by", "cw-3",
                  "--kind", "warc", str(photos[1]))  # fmt: skip
    assert refused.returncode == 1 and "gzip" in refused.stderr

    out = tmp_path / "C-1.zip"
    nothing = run(env, "evidence", "export", "--case", "C-9", "--by", "officer-7",
                  "--reason", "file", "--out", str(out))  # fmt: skip
    assert nothing.returncode == 1 and "Nothing is recorded" in nothing.stderr
    exported = run(env, "evidence", "export", "--case", "C-1", "--by", "officer-7",
                   "--reason", "File for the prosecutor", "--out", str(out))  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    assert "1 captures" in exported.stdout and "keep it safe" in exported.stdout
    assert capture_id in str(zipfile.ZipFile(out).namelist())

    verified = run({}, "evidence", "verify", str(out))  # no database, no keys
    assert verified.returncode == 0 and "VERIFIED" in verified.stdout
    pem = tmp_path / "other.pem"
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    pem.write_bytes(
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    pinned = run({}, "evidence", "verify", str(out), "--public-key", str(pem))
    assert pinned.returncode == 1 and "untrusted_key" in pinned.stdout

    ledger = run(env, "evidence", "verify-ledger")
    assert ledger.returncode == 0, ledger.stdout + ledger.stderr
    assert "VERIFIED" in ledger.stdout and "1 signed tree heads" in ledger.stdout
    signed = run(env, "evidence", "sign")
    assert signed.returncode == 0 and '"log":"chorus-evidence-ledger"' in signed.stdout


def test_a_malformed_public_key_file_is_a_usage_error(tmp_path: Path) -> None:
    bundle = tmp_path / "b.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("manifest.json", "{}")
    key = tmp_path / "key.pem"
    key.write_text("not a key")
    answer = run({}, "evidence", "verify", str(bundle), "--public-key", str(key))
    assert answer.returncode == 2 and "not an Ed25519 public key" in answer.stderr
    plain = subprocess.run(
        [sys.executable, "-m", "chorus.evidence.offline", str(bundle), "--public-key", str(key)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert plain.returncode == 2 and "not an Ed25519 public key" in plain.stderr
