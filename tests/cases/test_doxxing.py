"""Finding a survivor's own details in the words around a copy."""

from __future__ import annotations

import pytest

from chorus.cases.doxxing import details_from, kinds_seen, risk_for

DETAILS = details_from(
    [("name", "Jane Doe"), ("handle", "@jane_doe99"), ("town", "Hebden Bridge"),
     ("school", "St Mary's College"), ("workplace", "Calder Vale Library")]
)  # fmt: skip


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("look, it's jayne doe", ["name"]),  # sounds the same, spelled differently
        ("DOE, Jane", ["name"]),  # either order
        ("Jané Dóe again", ["name"]),  # accents
        ("john doe", []),  # sounds close but is another name
        ("jane", []),  # a given name alone means little
        ("follow @Jane_Doe99", ["handle"]),
        ("she is jane doe 99 on there", ["handle", "name"]),
        ("from hebden bridge", ["town"]),
        ("hebden bridges", []),  # whole words only
        ("goes to st marys college", ["school"]),
        ("works at calder vale library, in Hebden Bridge", ["town", "workplace"]),
        ("", []),
    ],
)
def test_kinds_seen(text: str, kinds: list[str]) -> None:
    assert kinds_seen(text, DETAILS) == kinds


def test_risk_levels() -> None:
    assert risk_for([]) == "standard"
    assert risk_for(["town"]) == "raised"
    assert risk_for(["town", "name"]) == "high"


def test_hostile_text_is_bounded() -> None:
    assert kinds_seen("jane " * 1_000_000 + "doe", DETAILS) == []  # read up to a limit
    assert details_from([("name", "!!!"), ("town", "")]) == []
