"""Search engines: delisting packs for Google's and Bing's intimate-image removal forms.

Delisting removes results from a search engine, not the copy from the web, so it runs
beside the notices to the site and its host, never instead of them. A pack is every field
the form asks for, filled with what Chorus knows (page URLs, image URLs, country) and a
plain checklist of what only the person or their representative can give or confirm.

Never in a pack: screenshots or images (the forms identify content by URL), and anything
where the person shown may have been under 18: those forms are for adults, and the
specialist routes below act on such reports directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from chorus.errors import DiscoveryError
from chorus.takedowns.recipient import Confidence, Recipient, RecipientRole

MAX_URLS = 1000

MINOR_ROUTE = (
    "Where the person shown may have been under 18, Chorus makes no delisting pack: the "
    "search engines' forms are for adults. Report it to a child-protection hotline instead "
    "(in the UK the Internet Watch Foundation, report.iwf.org.uk; in the US NCMEC's "
    "CyberTipline or Take It Down, takeitdown.ncmec.org). They work with the search "
    "engines and sites directly."
)


@dataclass(frozen=True)
class Engine:
    name: str
    form_url: str
    results_host: str


ENGINES = (
    Engine("Google", "https://support.google.com/websearch/answer/6302812", "www.google.com"),
    Engine("Bing", "https://www.microsoft.com/en-us/concern/revengeporn", "www.bing.com"),
)


@dataclass(frozen=True)
class FormField:
    label: str
    value: str | None  # None: only the person or their representative can fill it
    help: str


@dataclass(frozen=True)
class DelistingPack:
    engine: str
    form_url: str
    fields: tuple[FormField, ...]
    checklist: tuple[str, ...]


def recipients() -> list[Recipient]:
    return [
        Recipient(
            role=RecipientRole.SEARCH_ENGINE,
            name=e.name,
            source=f"{e.name}'s published removal form for intimate images",
            confidence=Confidence.HIGH,
            web_form_url=e.form_url,
            notes=(
                "Delisting hides the copy from search results; the copy stays online "
                "until the site or its host removes it.",
            ),
        )
        for e in ENGINES
    ]


def _urls(values: list[str], what: str) -> list[str]:
    out = []
    for value in values[:MAX_URLS]:
        url = value.strip()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise DiscoveryError(f"The {what} {url[:80]!r} is not a web address (http or https).")
        out.append(url)
    return list(dict.fromkeys(out))


def delisting_packs(
    page_urls: list[str],
    image_urls: list[str],
    country: str,
    *,
    results_urls: list[str] | None = None,
    minor_may_be_involved: bool = False,
) -> list[DelistingPack]:
    """One pack per engine; DiscoveryError (with the right route) where a minor may be shown."""
    if minor_may_be_involved:
        raise DiscoveryError(MINOR_ROUTE)
    pages = _urls(page_urls, "page address")
    images = _urls(image_urls, "image address")
    results = _urls(results_urls or [], "results-page address")
    if not pages and not images:
        raise DiscoveryError("A delisting pack needs at least one page or image address.")
    if not (len(country.strip()) == 2 and country.strip().isalpha()):
        raise DiscoveryError("Give the country of residence as a two-letter code, e.g. GB.")
    packs = []
    for engine in ENGINES:
        fields = (
            FormField("Country of residence", country.strip().upper(), "Where the person lives."),
            FormField("Full name", None, "The person shown, or their representative's name if "
                      "a helpline is filing for them, as they agreed."),
            FormField("Contact email", None, "Where the search engine should reply."),
            FormField("Are you the person shown, or acting for them?", None,
                      "Choose 'authorised representative' when a helpline files."),
            FormField("Web pages showing the images", "\n".join(pages) or None,
                      "One address per line."),
            FormField("Image addresses", "\n".join(images) or None, "One address per line."),
            FormField(f"{engine.name} results pages showing them", "\n".join(results) or None,
                      f"Search {engine.results_host} yourself and paste the results page "
                      "address; Chorus never searches on anyone's behalf."),
            FormField("The images are intimate and were shared without consent", None,
                      "Only the person or their representative can confirm this."),
        )  # fmt: skip
        checklist = (
            "The person shown, or their representative, confirms the images were shared "
            "without their consent.",
            "The person shown was 18 or over in the images.",
            "Their name and email are given only as they agreed.",
            "No screenshots or images are attached: the form identifies content by address.",
            f"Paste each field into {engine.name}'s form, then record the date it was sent.",
        )
        packs.append(DelistingPack(engine.name, engine.form_url, fields, checklist))
    return packs
