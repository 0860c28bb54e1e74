"""The evidence key ring the bank tests seal local features with.

Its master key is the one ``tests.web.server.running_server`` (and
``tests.web.staff_helpers.server_settings``) gives its server, and the monitor tests'
settings too, so rows banked with :data:`KEYS` open in those servers and monitors.
"""

from __future__ import annotations

import base64

from chorus.config import Settings
from chorus.evidence.keys import KeyRing

MASTER_KEY = base64.b64encode(b"m" * 32).decode()
SIGNING_KEY = base64.b64encode(b"s" * 32).decode()


def key_ring(master_key: str = MASTER_KEY, previous: tuple[str, ...] = ()) -> KeyRing:
    return KeyRing(
        Settings(
            env="test", secret_key="t" * 40,
            evidence_signing_key=SIGNING_KEY,  # type: ignore[arg-type]
            evidence_master_key=master_key,  # type: ignore[arg-type]
            evidence_previous_master_keys=list(previous),  # type: ignore[arg-type]
        )
    )  # fmt: skip


KEYS = key_ring()
