"""The words inside a bundle: its README and the continuity statement template."""

from __future__ import annotations

from typing import Any

_README = """\
CHORUS EVIDENCE BUNDLE {bundle_id}
{rule}

Please read before opening anything.

The folder captures/ holds {captures} capture(s) of web pages and media reported as
intimate images shared without consent. Nothing else in this bundle shows an image.
Open captures/ only when you need to, and only on a machine meant for this material.

Scope: cases {cases}{series}
Signed with ledger key id {key_id}


WHAT IS INSIDE

  manifest.json            the SHA-256 and size of every file below; manifest.sig is its
                           Ed25519 signature by the ledger key (ledger/public_key.pem)
  ledger/tree_head.json    the signed tree head: how many entries the ledger had when this
                           bundle was made and the Merkle root over all of them
                           (ledger/tree_head.sig is the signature)
  ledger/entries.jsonl     the ledger entries for this scope, one per line, exactly as hashed
  ledger/proofs.json       for each entry, the RFC 9162 inclusion proof that it is in the
                           signed tree
  ledger/payloads.jsonl    the details of each entry; each entry holds only a salted SHA-256
                           digest of its details, which these reproduce
  custody/custody_log.csv  who did what, when and why, for every entry in this bundle
  captures/originals/      the captures exactly as Chorus stored them (WARC files keep the
                           server's HTTP headers as received)
  captures/working/        working copies extracted from the originals. They are marked
                           WORKING-COPY; the originals are the evidence.
  captures/records.json    for each capture: URLs, UTC times, HTTP status and headers, the
                           Chorus version, the SHA-256 of each original and working copy
  exhibits.csv             exhibit labels for every original and working copy
  continuity_statement.txt a template for the statement of continuity
  verify/                  the verifier (Python 3 standard library only)
  timestamp/manifest.tsr   if present: an RFC 3161 timestamp token over manifest.json


HOW TO VERIFY (no Chorus installation, no network needed)

1. With the included script (Python 3.9 or newer):

     python3 verify/verify_bundle.py .                     (in the unpacked folder)
     python3 verify/verify_bundle.py bundle.zip --public-key unit-key.pem

   It checks both signatures, every file's SHA-256, that every entry is in the signed
   tree, that each entry's details match its digest, and that each original capture is
   the one recorded in the ledger when it was stored. It names every problem it finds.
   Pass --public-key with the key the issuing unit publishes: a bundle re-signed with
   another key is then refused. The script is small; read it if in doubt.

2. By hand, with OpenSSL 3 and coreutils:

     openssl pkeyutl -verify -pubin -inkey ledger/public_key.pem -rawin \\
         -in manifest.json -sigfile manifest.sig
     openssl pkeyutl -verify -pubin -inkey ledger/public_key.pem -rawin \\
         -in ledger/tree_head.json -sigfile ledger/tree_head.sig
     sha256sum <file>      (compare with the "files" list in manifest.json)

   The Merkle proofs follow RFC 9162 section 2.1.3.2: a leaf hash is
   SHA-256(0x00 || line of entries.jsonl), a node SHA-256(0x01 || left || right).

3. The timestamp token, if present, with the authority's certificate:

     openssl ts -verify -data manifest.json -in timestamp/manifest.tsr -CAfile tsa-ca.pem
"""

_CONTINUITY = """\
STATEMENT OF CONTINUITY - TEMPLATE
(Complete, check against exhibits.csv, and sign. Replace every [bracketed] field.)

Bundle: {bundle_id}

I, [full name], [rank / role], of [unit], state:

On [date] at [time] I received the electronic evidence bundle {bundle_id}
from [name / system] by [means of transfer]. Its file manifest.json verified
against the signature of ledger key [key id] using [verify_bundle.py / OpenSSL],
and the SHA-256 digest of the bundle file was [digest].

The bundle contains the following exhibits:
{exhibits}
From receipt until [date] the bundle was held [storage: device, location, access
controls]. It was accessed by [names, dates, reasons]. No exhibit was altered;
working copies were made only from the files marked WORKING-COPY.

Signed: ____________________        Date: ____________
"""


def readme(bundle_id: str, key_id: str, scope: dict[str, Any], captures: int) -> str:
    title = f"CHORUS EVIDENCE BUNDLE {bundle_id}"
    series = f"; series {scope['series']}" if scope.get("series") else ""
    return _README.format(
        bundle_id=bundle_id,
        rule="=" * len(title),
        captures=captures,
        cases=", ".join(scope["cases"]) or "(none)",
        series=series,
        key_id=key_id,
    )


def continuity_statement(bundle_id: str, exhibits: list[list[Any]]) -> str:
    lines = "".join(f"  {row[0]}  {row[1]}  (SHA-256 {row[2]})\n" for row in exhibits[1:])
    return _CONTINUITY.format(bundle_id=bundle_id, exhibits=lines or "  (none)\n")
