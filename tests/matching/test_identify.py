"""The monitor's compact form of an item's lookups round-trips exactly."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chorus.matching.identify import pack_queries, unpack_queries

SIZES = {"sha256": 32, "md5": 16, "pdq": 32, "robust": 32, "robust_half": 32}
query = st.sampled_from(sorted(SIZES)).flatmap(
    lambda kind: st.binary(min_size=SIZES[kind], max_size=SIZES[kind]).map(
        lambda raw: (kind, raw.hex())
    )
)


@given(st.lists(query, max_size=40))
def test_packed_queries_round_trip(queries: list[tuple[str, str]]) -> None:
    packed = pack_queries(queries)
    assert unpack_queries(packed) == queries
    assert len(packed) == sum(2 + SIZES[kind] for kind, _ in queries)


def test_a_match_by_either_robust_type_alone_is_robust_only() -> None:
    from chorus.matching.identify import EntryMatch

    def match(*types: str) -> EntryMatch:
        return EntryMatch("be_x", "case", types[0], 30, 36, frozenset(types))

    assert match("robust_half").robust_only
    assert match("robust", "robust_half").robust_only
    assert not match("pdq", "robust_half").robust_only
    assert not match("sha256").robust_only
