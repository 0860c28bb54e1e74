"""Notices per regime: complete ones render every element the law asks for; incomplete ones
are refused naming each gap; DMCA only for the survivor's own photo; no image, no name."""

from __future__ import annotations

import re

import pytest

from chorus.errors import NoticeIncompleteError, TakedownError
from chorus.takedowns import notices, regimes
from chorus.takedowns.notices import Choices, Disclosure, NoticeInput, Notifier

from .fixtures import HOST, SITE

URLS = ("https://board.example/b/thread/1", "https://board.example/b/1700000000001.jpg")
HELPLINE = Notifier(
    "Example Helpline", "takedowns@helpline.example", "1 Example Street, Exampletown EX1 1EX"
)
FULL = Choices(
    signature="/s/ A. Caseworker, for Example Helpline, authorised representative",
    non_consent_confirmed=True,
    accuracy_confirmed=True,
)
#: Words a notice must carry for each regime (its legal hooks), checked in the rendered text.
MUST_SAY = {
    "eu-dsa-art16": [
        "Article 16",
        "Regulation (EU) 2022/2065",
        "bona fide belief",
        "accurate and complete",
        "Article 5 of Directive (EU) 2024/1385",
    ],
    "us-take-it-down": [
        "TAKE IT DOWN Act",
        "48 hours",
        "identical copies",
        "good-faith belief",
        "without their consent",
        "Signature:",
    ],
    "england-wales": [
        "section 66B of the Sexual Offences Act 2003",
        "Online Safety Act 2023",
        "section 10(3)(b)",
        "Schedule 7",
        "did not consent",
    ],
    "us-dmca-512c3": ["512(c)(3)", "good faith belief", "penalty of perjury", "copyright owner"],
}


def build(regime: str, choices: Choices = FULL, notifier: Notifier = HELPLINE) -> dict:  # type: ignore[type-arg]
    return notices.elements_of(NoticeInput(regime, SITE, URLS, notifier, choices))


@pytest.mark.parametrize("regime", sorted(MUST_SAY))
def test_a_complete_notice_per_regime(regime: str) -> None:
    choices = Choices(**{**FULL.__dict__, "survivor_took_image": regime == "us-dmca-512c3"})
    elements = build(regime, choices)
    assert notices.missing(regime, elements) == []
    notices.require_complete(regime, elements)
    subject, body = notices.render(regime, "TD-1", SITE.name, elements)
    assert "\n" not in subject and "TD-1" in subject
    for url in URLS:
        assert f"- {url}" in body
    for words in MUST_SAY[regime]:
        assert words in " ".join(body.split()), (regime, words)
    assert "Example Helpline" in body and "takedowns@helpline.example" in body
    assert "authorised representative" in " ".join(
        body.split()
    )  # the survivor is not named by default
    assert "[missing" not in body
    assert "contains no image" in body
    # calm and factual: no graphic or blaming words
    for word in ("nude", "naked", "explicit", "porn", "sexy", "revenge", "leaked"):
        assert not re.search(rf"\b{word}", body, re.I), word


def test_every_regime_file_names_known_elements_and_each_is_listed() -> None:
    ids = {r.id for r in regimes.all_regimes()}
    assert ids == set(MUST_SAY)
    for regime in regimes.all_regimes():
        assert "content_urls" in regime.requires
        assert set(regime.requires) <= set(regimes.ELEMENTS)


def test_incomplete_notices_name_every_missing_element() -> None:
    elements = build("us-take-it-down", Choices(), Notifier())
    with pytest.raises(NoticeIncompleteError) as caught:
        notices.require_complete("us-take-it-down", elements)
    message = caught.value.message
    for gap in (
        "confirmation that the person shown did not consent",
        "signature",
        "the name of the person or organisation",
        "the email address of the sender",
    ):
        assert gap in message, gap
    assert "exact URL" not in message  # URLs were given
    _, body = notices.render("us-take-it-down", "TD-1", SITE.name, elements)
    assert "[missing: signature]" in body
    dsa = build("eu-dsa-art16", Choices(non_consent_confirmed=True))
    assert notices.missing("eu-dsa-art16", dsa) == [regimes.ELEMENTS["accuracy_confirmed"]]


def test_dmca_only_for_the_survivors_own_photo() -> None:
    with pytest.raises(TakedownError, match="photograph the survivor took themselves"):
        build("us-dmca-512c3")
    elements = build("us-dmca-512c3", Choices(**{**FULL.__dict__, "survivor_took_image": True}))
    assert notices.missing("us-dmca-512c3", elements) == []
    no_address = build(
        "us-dmca-512c3",
        Choices(**{**FULL.__dict__, "survivor_took_image": True}),
        Notifier("Example Helpline", "takedowns@helpline.example"),
    )
    assert notices.missing("us-dmca-512c3", no_address) == ["the postal address of the sender"]
    _, body = notices.render("us-dmca-512c3", "TD-1", SITE.name, elements)
    assert "do not publish this notice" in " ".join(body.split())
    named = Disclosure("named", "Sam Example", "cw-3")
    with pytest.raises(TakedownError, match="never names the person shown"):
        build("us-dmca-512c3", Choices(**{**FULL.__dict__, "survivor_took_image": True,
                                          "disclosure": named}))  # fmt: skip


def test_hashes_only_where_the_recipient_accepts_them() -> None:
    pdq = "pdq:" + "ab" * 32
    with pytest.raises(TakedownError, match="accepts them"):
        build("eu-dsa-art16", Choices(**{**FULL.__dict__, "hashes": (pdq,)}))
    elements = build(
        "eu-dsa-art16",
        Choices(**{**FULL.__dict__, "hashes": (pdq,), "recipient_accepts_hashes": True}),
    )
    _, body = notices.render("eu-dsa-art16", "TD-1", HOST.name, elements)
    assert pdq in body and "you told us you accept them" in body
    _, plain = notices.render("eu-dsa-art16", "TD-1", HOST.name, build("eu-dsa-art16"))
    assert "hash" not in plain.lower()
    with pytest.raises(TakedownError, match="not a hash"):
        build("eu-dsa-art16", Choices(hashes=("pdq:xyz",), recipient_accepts_hashes=True))


def test_the_survivor_is_named_only_with_recorded_consent() -> None:
    with pytest.raises(TakedownError, match="only with their consent"):
        build("england-wales", Choices(disclosure=Disclosure("named", "Sam Example")))
    named = Choices(**{**FULL.__dict__, "disclosure": Disclosure("named", "Sam Example", "cw-3")})
    _, body = notices.render("england-wales", "TD-1", SITE.name, build("england-wales", named))
    flat = " ".join(body.split())
    assert "We act for Sam Example" in flat and "consent to be named" in flat
    _, default = notices.render("england-wales", "TD-1", SITE.name, build("england-wales"))
    assert "Sam Example" not in default and "not to share their name" in " ".join(default.split())


@pytest.mark.parametrize(
    ("urls", "words"),
    [
        (("javascript:alert(1)",), "not a web address"),
        (("https://board.example/a\r\nBcc: x@y.example",), "not a web address"),
        (("ftp://board.example/file",), "not a web address"),
    ],
)
def test_bad_urls_are_refused(urls: tuple[str, ...], words: str) -> None:
    with pytest.raises(TakedownError, match=words):
        notices.elements_of(NoticeInput("eu-dsa-art16", SITE, urls, HELPLINE, FULL))


def test_unknown_regime_and_bad_addresses_are_refused() -> None:
    with pytest.raises(TakedownError, match="no notice template called 'xx'"):
        build("xx")
    with pytest.raises(TakedownError, match="sender email"):
        build("eu-dsa-art16", FULL, Notifier("H", "not-an-address\r\nBcc: a@b.example"))
    with pytest.raises(TakedownError, match="control characters"):
        build("eu-dsa-art16", Choices(explanation_extra="a\x00b"))
