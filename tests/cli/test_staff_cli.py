"""`chorus staff` as an administrator runs it: add (password on stdin, the TOTP address
printed once), list (never a secret), disable; bad input changes nothing."""

from __future__ import annotations

import base64
import os
import subprocess
import sys

import pyotp

CHORUS = [sys.executable, "-m", "chorus.cli", "staff"]


def run(database_url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHORUS_")}
    env.update(CHORUS_DATABASE_URL=database_url, CHORUS_ENV="test",
               CHORUS_SECRET_KEY="t" * 40,
               CHORUS_EVIDENCE_SIGNING_KEY=base64.b64encode(b"s" * 32).decode(),
               CHORUS_EVIDENCE_MASTER_KEY=base64.b64encode(b"m" * 32).decode())  # fmt: skip
    return subprocess.run([*CHORUS, *args], capture_output=True, text=True, env=env,
                          input=stdin, timeout=120)  # fmt: skip


def test_add_list_disable(database_url: str) -> None:
    added = run(
        database_url,
        "add",
        "a.khan",
        "--role",
        "caseworker",
        "--name",
        "Aisha Khan",
        "--unit",
        "Victim Care",
        "--password-stdin",
        stdin="a long passphrase here\n",
    )
    assert added.returncode == 0, added.stderr  # fmt: skip
    uri = added.stdout.strip()
    assert uri.startswith("otpauth://totp/Chorus:a.khan?") and "only time" in added.stderr
    secret = pyotp.parse_uri(uri).secret
    bad = run(
        database_url,
        "add",
        "b.bad",
        "--role",
        "survivor",
        "--name",
        "B",
        "--unit",
        "U",
        "--password-stdin",
        stdin="a long passphrase here\n",
    )
    assert bad.returncode == 2 and "caseworker, investigator or admin" in bad.stderr  # fmt: skip
    listed = run(database_url, "list")
    assert listed.returncode == 0
    assert listed.stdout.splitlines() == ["a.khan\tcaseworker\tactive\tVictim Care\t-\tAisha Khan"]
    assert secret not in listed.stdout
    assert run(database_url, "disable", "a.khan").returncode == 0
    assert "\tdisabled\t" in run(database_url, "list").stdout
    missing = run(database_url, "disable", "nobody")
    assert missing.returncode == 1 and "no staff account called nobody" in missing.stderr
