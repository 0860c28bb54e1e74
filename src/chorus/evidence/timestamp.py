"""RFC 3161 trusted timestamps: a token from a timestamp authority over a digest.

The token proves the manifest existed at the authority's time; it is checked later with
``openssl ts -verify`` and the authority's certificate (see a bundle's README).
"""

from __future__ import annotations

import secrets
from datetime import datetime

import httpx
from asn1crypto import algos, tsp

from chorus.errors import TimestampError

_MAX_RESPONSE = 1024 * 1024


def request_timestamp(
    url: str, digest: bytes, *, timeout_s: float = 10.0
) -> tuple[bytes, datetime]:
    """Ask the authority at ``url`` to timestamp a SHA-256 ``digest``.

    Returns the DER TimeStampResp (as ``openssl ts -reply`` writes it) and the authority's
    time. Raises TimestampError for a refusal, a wrong imprint or nonce, or no answer.
    """
    nonce = secrets.randbits(63)
    request = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": tsp.MessageImprint(
                {
                    "hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                    "hashed_message": digest,
                }
            ),
            "nonce": nonce,
            "cert_req": True,
        }
    )
    try:
        answer = httpx.post(
            url,
            content=request.dump(),
            headers={"Content-Type": "application/timestamp-query"},
            timeout=timeout_s,
        )
    except httpx.HTTPError as exc:
        raise TimestampError(f"The timestamp authority could not be reached ({exc}).") from exc
    if answer.status_code != 200 or len(answer.content) > _MAX_RESPONSE:
        raise TimestampError(f"The timestamp authority answered HTTP {answer.status_code}.")
    try:
        response = tsp.TimeStampResp.load(answer.content)
        status = response["status"]["status"].native
        if status not in ("granted", "granted_with_mods"):
            raise TimestampError(f"The timestamp authority refused the request ({status}).")
        signed = response["time_stamp_token"]["content"]
        info = signed["encap_content_info"]["content"].parsed
        imprint = info["message_imprint"]["hashed_message"].native
        given_nonce = info["nonce"].native
        when: datetime = info["gen_time"].native
    except TimestampError:
        raise
    except (ValueError, KeyError, TypeError) as exc:
        raise TimestampError("The timestamp authority's answer could not be read.") from exc
    if imprint != digest or given_nonce != nonce:
        raise TimestampError("The timestamp token does not cover the requested digest.")
    return answer.content, when
