"""The hosting provider (address RDAP) and the registrar (domain RDAP) of a site.

- Host: the RDAP network that holds the address, its ``abuse`` entity's email and phone,
  the network's name and range; when the network has no abuse entity, the abuse contact
  of its origin AS (when the answer names one), then its registrant's general contact.
- Registrar: the registry's answer for the domain and the registrar's own (``related``
  referral), the ``registrar`` entity and its ``abuse`` contact.
"""

from __future__ import annotations

import ipaddress

from chorus.errors import DiscoveryError
from chorus.takedowns.bootstrap import Bootstrap
from chorus.takedowns.rdap import Contact, RdapClient, RdapObject
from chorus.takedowns.recipient import Confidence, Recipient, RecipientRole

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _reachable(client: RdapClient, contacts: list[Contact]) -> Contact | None:
    """The first contact with an email or phone, fetching linked entities if needed."""
    for contact in contacts:
        if not contact.emails and contact.self_url:
            try:
                contact = client.fill(contact)
            except DiscoveryError:
                continue
        if contact.emails or contact.phones:
            return contact
    return None


def _owner(network: RdapObject) -> str | None:
    for role in ("registrant", "administrative", "technical"):
        for contact in network.with_role(role):
            if contact.name:
                return contact.name
    return None


def host(client: RdapClient, bootstrap: Bootstrap, address: Address) -> tuple[Recipient, list[str]]:
    """The hosting provider of ``address`` and any lesser problems met on the way."""
    network = client.query(bootstrap.for_address(address), f"ip/{address}")
    problems: list[str] = []
    owner = _owner(network) or network.name or "the network's holder"
    label = f"{owner} (network {network.name or network.handle or address})"
    notes = []
    if network.start and network.end:
        notes.append(
            f"Network {network.start} to {network.end}"
            + (f", registered in {network.country}." if network.country else ".")
        )
    if network.origin_asns:
        notes.append("Announced by " + ", ".join(f"AS{a}" for a in network.origin_asns) + ".")
    abuse = _reachable(client, network.with_role("abuse"))
    source, confidence = f"RDAP {network.url} (abuse contact)", Confidence.HIGH
    if abuse is None:
        problems.append(f"RDAP {network.url}: the network has no abuse contact.")
        for asn in network.origin_asns[:2]:
            try:
                autnum = client.query(bootstrap.for_asn(asn), f"autnum/{asn}")
            except DiscoveryError as exc:
                problems.append(exc.message)
                continue
            abuse = _reachable(client, autnum.with_role("abuse"))
            if abuse is not None:
                source = f"RDAP {autnum.url} (abuse contact of AS{asn})"
                break
            problems.append(f"RDAP {autnum.url}: AS{asn} has no abuse contact.")
    if abuse is None:
        abuse = _reachable(client, [c for c in network.contacts if "abuse" not in c.roles])
        source, confidence = f"RDAP {network.url} (general contact)", Confidence.MEDIUM
        if abuse is not None:
            notes.append("This network publishes no abuse contact; this is its general "
                         "contact, which may pass the report on slowly.")  # fmt: skip
    if abuse is None:
        raise DiscoveryError(
            f"RDAP {network.url}: {label} publishes no way to reach it."
            + (" " + " ".join(problems) if problems else "")
        )
    recipient = Recipient(
        role=RecipientRole.HOST, name=label, source=source, confidence=confidence,
        email=next(iter(abuse.emails), None), phone=next(iter(abuse.phones), None),
        notes=tuple(notes),
    )  # fmt: skip
    return recipient, problems


def registrar(client: RdapClient, bootstrap: Bootstrap, domain: str) -> tuple[Recipient, list[str]]:
    """The domain's registrar and its abuse contact; lesser problems (referrals) listed."""
    chain, problems = client.domain(bootstrap.for_domain(domain), domain)
    entity = next((c for answer in reversed(chain) for c in answer.with_role("registrar")), None)
    if entity is None:
        raise DiscoveryError(f"RDAP {chain[0].url}: the answer names no registrar.")
    name = entity.name or entity.handle or "the registrar"
    abuse = _reachable(client, [c for a in reversed(chain) for c in a.with_role("abuse")])
    iana_id = next((c.iana_id for a in chain for c in a.with_role("registrar") if c.iana_id), None)
    notes = [f"IANA registrar id {iana_id}."] if iana_id else []
    where = next((a.url for a in reversed(chain) if a.with_role("abuse")), chain[-1].url)
    source, contact = f"RDAP {chain[-1].url} (registrar)", entity
    if abuse is not None:
        source = f"RDAP {where} (registrar abuse contact)"
        confidence, contact = Confidence.HIGH, abuse
    elif entity.emails or entity.phones:
        confidence = Confidence.MEDIUM
        notes.append("No abuse contact was published; this is the registrar's general contact.")
    else:
        confidence = Confidence.LOW
        notes.append("RDAP names the registrar but no way to reach it: look up its abuse "
                     "page on its website.")  # fmt: skip
    recipient = Recipient(
        role=RecipientRole.REGISTRAR, name=name, source=source, confidence=confidence,
        email=next(iter(contact.emails), None), phone=next(iter(contact.phones), None),
        notes=tuple(notes),
    )  # fmt: skip
    return recipient, problems
