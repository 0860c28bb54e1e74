"""Linking: the story's 100 reports become one suggested series; hubs never link."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chorus.cases import urls
from chorus.cases.intake import artifacts_from_answers
from chorus.cases.linking import keys_for, name_key, suggest

from .scenario import series_reports, unrelated_reports


def test_the_story_becomes_one_series_and_the_unrelated_stay_apart() -> None:
    related = series_reports()
    unrelated = unrelated_reports()
    reports = [(n, artifacts_from_answers(a)) for n, a in enumerate(related + unrelated)]
    links, series = suggest(reports)
    assert series == [list(range(100))]
    assert all(link.a < 100 and link.b < 100 for link in links)
    assert len(links) >= 99
    reasons = " ".join(r for link in links for r in link.reasons)
    assert "the same board thread (b/48213)" in reasons
    assert "the same board thread (b/48990)" in reasons
    assert "board.example/" not in reasons.replace("board thread", "")  # the root never
    assert "exampletown" not in reasons.lower()
    assert "both name a person with access" in reasons


@given(
    st.sampled_from(["http://", "https://", "HTTPS://", ""]),
    st.sampled_from(["", "www.", "WWW."]),
    st.sampled_from(["", "/", "/?utm_source=x", "#frag", "/?fbclid=1#x"]),
)
def test_url_spellings_normalise_to_one_key(scheme: str, www: str, tail: str) -> None:
    url = f"{scheme}{www}Example.org/a/b{tail}"
    assert urls.normalize(url) == "example.org/a/b"


@given(st.text(max_size=200))
def test_normalisation_never_crashes(text: str) -> None:
    result = urls.normalize(text)
    assert result is None or " " not in result.split("/", 1)[0]


def test_hubs_and_own_details_never_give_keys() -> None:
    assert keys_for("url", "https://board.example/") == []
    assert keys_for("url", "https://www.facebook.com") == []
    assert keys_for("url", "https://instagram.com/explore") == []
    assert keys_for("town", "Exampletown") == []
    assert keys_for("url", "https://instagram.com/p/abc123")[0].key == "url:instagram.com/p/abc123"


def test_name_variants_meet_and_different_people_do_not() -> None:
    assert name_key("Jon Smyth") == name_key("John Smith")
    reports = [(1, [("person_with_access", "Jon Smyth")]),
               (2, [("person_with_access", "John Smith")]),
               (3, [("person_with_access", "Jane Smith")])]  # fmt: skip
    links, series = suggest(reports)
    assert [(link.a, link.b) for link in links] == [(1, 2)]
    assert links[0].reasons == ["both name a person with access: jon smyth / john smith"]
    assert links[0].weak and series == []  # a name alone is kept, but makes no series


def test_a_person_link_needs_a_second_different_key() -> None:
    thread = "https://board.example/b/thread/7"
    reports = [(1, [("person_with_access", "Jon Smyth"), ("url", thread)]),
               (2, [("person_with_access", "John Smith"), ("url", thread)]),
               (3, [("person_with_access", "John Smith"), ("person_in_screenshot", "Ann Lee")]),
               (4, [("person_with_access", "Jon Smith"), ("handle", "@ann.lee")]),
               (5, [("handle", "@Ann.Lee")])]  # fmt: skip
    links, series = suggest(reports)
    by_pair = {(link.a, link.b): link for link in links}
    assert not by_pair[(1, 2)].weak  # a name and a thread
    assert by_pair[(1, 3)].weak and by_pair[(1, 4)].weak  # names only
    assert not by_pair[(4, 5)].weak  # a handle
    assert series == [[1, 2], [4, 5]]  # 3 is linked by names only: recorded, in no series
