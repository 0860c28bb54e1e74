"""RFC 9083-shaped RDAP answers for the local RDAP server, good and broken."""

from __future__ import annotations

import json

from .servers import Reply, rdap


def vcard(name: str, email: str | None = None, phone: str | None = None) -> list[object]:
    props: list[list[object]] = [["version", {}, "text", "4.0"], ["fn", {}, "text", name]]
    if email:
        props.append(["email", {}, "text", email])
    if phone:
        props.append(["tel", {"type": "voice"}, "uri", f"tel:{phone}"])
    return ["vcard", props]


def entity(handle: str, roles: list[str], name: str, email: str | None = None,
           phone: str | None = None, entities: list[object] | None = None,
           **extra: object) -> dict[str, object]:  # fmt: skip
    doc: dict[str, object] = {
        "objectClassName": "entity", "handle": handle, "roles": roles,
        "vcardArray": vcard(name, email, phone), **extra,
    }  # fmt: skip
    if entities:
        doc["entities"] = entities
    return doc


def network(address: str, name: str, entities: list[object], **extra: object) -> dict[str, object]:
    return {
        "rdapConformance": ["rdap_level_0"], "objectClassName": "ip network",
        "handle": f"NET-{name}", "startAddress": address, "endAddress": address,
        "ipVersion": "v6" if ":" in address else "v4", "name": name, "type": "ASSIGNED",
        "country": "NL", "entities": entities, **extra,
    }  # fmt: skip


HOSTER = entity(
    "EXH-1", ["registrant"], "Example Hosting B.V.",
    entities=[entity("EXH-ABUSE", ["abuse"], "Abuse desk", "abuse@hosting.test", "+31.205550100")],
)  # fmt: skip


def routes(base: str) -> dict[str, Reply]:
    """Path -> reply. ``base`` is the server's own URL, for links."""
    registrar_abuse = entity("RAR-ABUSE", ["abuse"], "Registrar abuse team",
                             "abuse@registrar.test", "+1.5555550100")  # fmt: skip
    registrar = entity("9999", ["registrar"], "Example Registrar, Inc.", entities=[registrar_abuse],
                       publicIds=[{"type": "IANA Registrar ID", "identifier": "9999"}])  # fmt: skip

    def domain(
        name: str, related: str | None = None, entities: list[object] | None = None
    ) -> Reply:
        doc: dict[str, object] = {
            "rdapConformance": ["rdap_level_0", "icann_rdap_response_profile_1"],
            "objectClassName": "domain", "handle": f"D-{name}", "ldhName": name,
            "entities": [registrar] if entities is None else entities,
        }  # fmt: skip
        if related:
            doc["links"] = [{"rel": "related", "href": related, "type": "application/rdap+json"}]
        return rdap(doc)

    own = domain(
        "valid.test",
        entities=[
            entity(
                "9999",
                ["registrar"],
                "Example Registrar, Inc.",
                entities=[entity("RAR-DESK", ["abuse"], "Abuse desk", "abuse-desk@registrar.test")],
            )
        ],
    )
    return {
        # ip networks
        "/ip/127.0.0.1": rdap(
            network("127.0.0.1", "EXAMPLE-HOSTING", [HOSTER], arin_originas0_originautnums=[64500])
        ),
        "/ip/::1": rdap(network("::1", "EXAMPLE-HOSTING-V6", [HOSTER])),
        "/ip/127.0.0.2": rdap(
            network(
                "127.0.0.2",
                "NO-ABUSE-NET",
                [entity("NA-1", ["registrant"], "Quiet Hosting Ltd")],
                arin_originas0_originautnums=[64501],
            )
        ),
        "/autnum/64501": rdap(
            {
                "objectClassName": "autnum",
                "handle": "AS64501",
                "startAutnum": 64501,
                "endAutnum": 64501,
                "name": "QUIET-AS",
                "entities": [entity("QA-ABUSE", ["abuse"], "Quiet abuse", "abuse@quiet.test")],
            }
        ),
        "/ip/127.0.0.3": rdap({"errorCode": 404, "title": "Not Found"}, status=404),
        "/ip/127.0.0.4": Reply(delay_s=1.5, body=b"{}"),
        "/ip/127.0.0.5": Reply(body=b'{"objectClassName": "ip network", "entities": [{'),
        "/ip/127.0.0.6": Reply(
            body=json.dumps({"objectClassName": "ip network", "remarks": ["x" * 200_000]}).encode()
        ),
        "/ip/127.0.0.7": rdap(network("127.0.0.7", "MUTE-NET", [])),
        # an abuse entity given only by a link to it (fetched once)
        "/ip/127.0.0.9": rdap(
            network(
                "127.0.0.9",
                "LINKED-NET",
                [
                    {
                        "objectClassName": "entity",
                        "handle": "LINK-ABUSE",
                        "roles": ["abuse"],
                        "links": [{"rel": "self", "href": f"{base}/entity/LINK-ABUSE"}],
                    }
                ],
            )
        ),
        "/entity/LINK-ABUSE": rdap(
            entity("LINK-ABUSE", ["abuse"], "Linked abuse desk", "abuse@linked.test")
        ),
        # remote text that tries to style the terminal or clear it
        "/ip/127.0.0.10": rdap(
            network(
                "127.0.0.10",
                "HOSTILE-NET",
                [
                    entity(
                        "H-1",
                        ["registrant", "abuse"],
                        "[bold red]Evil[/] \x1b[2J Hosting",
                        "abuse@hostile.test",
                    )
                ],
            )
        ),
        # domains
        "/domain/valid.test": domain("valid.test", related=f"{base}/registrar/domain/valid.test"),
        "/registrar/domain/valid.test": own,
        "/domain/loop.test": domain("loop.test", related=f"{base}/r1/domain/loop.test"),
        "/r1/domain/loop.test": domain("loop.test", related=f"{base}/domain/loop.test"),
        "/domain/redirect.test": Reply(301, headers={"Location": "/domain/redirect2.test"}),
        "/domain/redirect2.test": Reply(301, headers={"Location": "/domain/redirect.test"}),
        "/domain/nameless.test": domain("nameless.test", entities=[]),
        "/domain/broken-referral.test": domain(
            "broken-referral.test", related=f"{base}/nowhere/domain/broken-referral.test"
        ),
    }


def route(base: str):  # type: ignore[no-untyped-def]
    table = routes(base)

    def answer(_host: str, path: str) -> Reply:
        return table.get(path.split("?")[0], rdap({"errorCode": 404, "title": "Not Found"}, 404))

    return answer
