"""Web sites for discovery tests, told apart by Host header: security.txt good and bad."""

from __future__ import annotations

from .servers import Reply

FUTURE = "2099-01-01T00:00:00Z"

VALID = f"""# Board operator contacts
Contact: mailto:security@valid.test
Contact: https://valid.test/report
Expires: {FUTURE}
Preferred-Languages: en, nl
Policy: https://valid.test/policy
Canonical: https://valid.test/.well-known/security.txt
""".encode()

EXPIRED = b"""Contact: mailto:old-security@expired.test
Expires: 2020-01-01T00:00:00Z
"""

MALFORMED = b"""this is not a security.txt
Expires: sometime
Contact: ftp://nowhere
"""

SIGNED = f"""-----BEGIN PGP SIGNED MESSAGE-----
Hash: SHA256

Contact: mailto:team@signed.test
Expires: {FUTURE}
- -----not a field, dash-escaped-----
-----BEGIN PGP SIGNATURE-----

iQIzBAEBCAAdFiEEexample
-----END PGP SIGNATURE-----
""".encode()

HOME = b"""<!doctype html><html><body><h1>Board</h1>
<a href="/b/">/b/</a> <a href="/contact">Contact us</a> <a href="/legal/abuse">Report abuse</a>
<a href="mailto:admin@valid.test">mail</a> <a href="https://elsewhere.test/abuse">other site</a>
</body></html>"""

NOT_FOUND = Reply(404, b"<html>not here</html>", "text/html")


def route(host: str, path: str) -> Reply:
    text = "text/plain; charset=utf-8"
    if path == "/.well-known/security.txt":
        if host == "valid.test":
            return Reply(body=VALID, content_type=text)
        if host == "expired.test":
            return Reply(body=EXPIRED, content_type=text)
        if host == "malformed.test":
            return Reply(body=MALFORMED, content_type=text)
        if host == "signed.test":
            return Reply(body=SIGNED, content_type=text)
        if host == "soft404.test":  # a "not found" page served with 200
            return Reply(body=b"<!doctype html><p>Page not found</p>", content_type="text/html")
    if path == "/security.txt" and host == "legacy.test":  # only the old place
        return Reply(body=VALID.replace(b"valid.test", b"legacy.test"), content_type=text)
    if path == "/" and host in ("valid.test", "loop.test"):
        return Reply(body=HOME, content_type="text/html")
    return NOT_FOUND
