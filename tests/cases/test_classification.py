"""However the images were obtained, sharing them without consent gets the s66B code."""

from __future__ import annotations

import pytest

from chorus.cases.classification import check, suggest, table
from chorus.cases.intake import IntakeAnswers
from chorus.errors import CasesError

ROUTES = ["hacked_account", "sent_to_someone", "social_media", "taken_covertly", "unknown"]


@pytest.mark.parametrize("route", ROUTES)
def test_every_route_gets_the_image_sharing_code_first(route: str) -> None:
    answers = IntakeAnswers(what_was_shared="photos", how_obtained=route)  # type: ignore[arg-type]
    codes = [code for code, _why in suggest(answers)]
    assert codes[0] == "SOA03-66B1"
    extra = {"hacked_account": ["CMA90-1"], "taken_covertly": ["SOA03-67"]}.get(route, [])
    assert codes[1:] == extra


@pytest.mark.parametrize("route", ROUTES)
def test_no_route_can_be_recorded_without_the_primary_code(route: str) -> None:
    answers = IntakeAnswers(what_was_shared="photos", how_obtained=route)  # type: ignore[arg-type]
    for chosen in ([], ["CMA90-1"], ["PHA97-2", "TA68-21"]):
        with pytest.raises(CasesError, match="however the images were obtained"):
            check(answers, chosen)
    check(answers, ["SOA03-66B1", "CMA90-1"])


def test_threats_blackmail_and_harassment_sit_beside() -> None:
    answers = IntakeAnswers(
        what_was_shared="they say they will post them", already_shared=False,
        threatened_to_share=True, asked_for_money_or_images=True, repeated_contact=True,
    )  # fmt: skip
    assert [c for c, _ in suggest(answers)] == ["SOA03-66B4", "PHA97-2", "TA68-21"]
    with pytest.raises(CasesError, match="Unknown"):
        check(answers, ["SOA03-66B4", "NO-CRIME"])


def test_the_code_table_is_data() -> None:
    codes = table()
    assert codes.jurisdiction == "england-wales"
    assert codes.primary == {"SOA03-66B1", "SOA03-66B2", "SOA03-66B3", "SOA03-66B4"}
    assert all(o.law for o in codes.offences.values())
    with pytest.raises(CasesError):
        table("atlantis")


def test_oversized_answers_are_refused_with_a_clear_error() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="at most 2000 characters"):
        IntakeAnswers(what_was_shared="x", urls=["https://a.example/" + "x" * 5000])
    with pytest.raises(ValidationError, match="at most 20 items"):
        IntakeAnswers(what_was_shared="x", own_details_seen={f"k{i}": "v" for i in range(30)})
