"""PdqIndex: exactness against brute force (random and clustered codes, every chunk layout
path), incremental changes, hostile input and persistence."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from chorus.matching import pdq_index
from chorus.matching.pdq_index import PdqIndex, brute_force

LAYOUTS = [None, (16,) * 16, (12, 12, 12) + (11,) * 20]  # None: plan(n), 8-bit chunks here
code_bytes = st.binary(min_size=32, max_size=32)
flips = st.sets(st.integers(0, 255), max_size=45)


def as_array(values: list[bytes]) -> np.ndarray:
    return np.frombuffer(b"".join(values), dtype=np.uint8).reshape(-1, 32)


def flipped(code: bytes, bits: set[int] | list[int]) -> bytes:
    out = bytearray(code)
    for b in bits:
        out[b >> 3] ^= 0x80 >> (b & 7)
    return bytes(out)


@contextmanager
def layout(widths: tuple[int, ...] | None):
    if widths is None:
        yield
    else:
        with mock.patch.object(pdq_index, "plan", return_value=widths):
            yield


def index_of(ids, codes, *, radius=31, widths=None, bit_order="interleaved", split=0.5):
    """An index holding ids/codes: the first part compacted into tables, the rest in the delta."""
    index = PdqIndex(radius, delta_limit=1 << 30)
    index.bit_order = bit_order
    index.scan_factor = 0.0  # probe even where a scan would be cheaper: test the probing
    cut = int(len(ids) * split)
    with layout(widths):
        index.add(ids[:cut], codes[:cut])
        index.compact()
    index.add(ids[cut:], codes[cut:])
    return index


def check_all_paths(index, codes_db, ids, queries, radius):
    expected = brute_force(codes_db, ids, queries, radius)
    for factor in (0.0, 30.0, 1e18):  # always probe, the default choice, always scan
        index.scan_factor = factor
        assert index.search(queries, radius) == expected
    return expected


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    db=st.lists(code_bytes, max_size=120, unique=True),
    queries=st.lists(code_bytes, min_size=1, max_size=5),
    radius=st.integers(0, 140),
    widths=st.sampled_from(LAYOUTS),
    bit_order=st.sampled_from(pdq_index.BIT_ORDERS),
)
def test_random_codes_match_brute_force(db, queries, radius, widths, bit_order):
    codes = as_array(db) if db else np.empty((0, 32), np.uint8)
    ids = np.arange(len(db), dtype=np.int64) * 5 + 2
    index = index_of(ids, codes, widths=widths, bit_order=bit_order)
    # queries near stored codes as well as random ones, so some fall inside the radius
    near = [flipped(db[i % len(db)], range(i, i + radius // 2)) for i in range(3)] if db else []
    check_all_paths(index, codes, ids, as_array(queries + near), radius)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    centres=st.lists(code_bytes, min_size=1, max_size=4),
    members=st.lists(st.tuples(st.integers(0, 3), flips), min_size=1, max_size=150),
    query_flips=st.lists(st.tuples(st.integers(0, 3), flips), min_size=1, max_size=4),
    radius=st.integers(0, 63),
    widths=st.sampled_from(LAYOUTS),
    bit_order=st.sampled_from(pdq_index.BIT_ORDERS),
    split=st.sampled_from([0.0, 0.5, 1.0]),
)
def test_clustered_codes_match_brute_force(
    centres, members, query_flips, radius, widths, bit_order, split
):
    queries = [flipped(centres[c % len(centres)], f) for c, f in query_flips]
    # around each query: codes at exactly radius - 1, radius and radius + 1 bits away
    edge = [
        flipped(q, range(k, k + d))
        for k, q in enumerate(queries)
        for d in (max(radius - 1, 0), radius, radius + 1)
        if k + d <= 256
    ]
    stored = {flipped(centres[c % len(centres)], f) for c, f in members} | set(edge)
    db = sorted(stored)
    codes = as_array(db)
    ids = np.random.default_rng(len(db)).permutation(10 * len(db))[: len(db)].astype(np.int64)
    index = index_of(ids, codes, radius=radius, widths=widths, bit_order=bit_order, split=split)
    expected = check_all_paths(index, codes, ids, as_array(queries), radius)
    assert index.search(as_array(queries)) == expected  # the index's own radius by default
    assert any(d == radius for _, d in expected[0])  # the code exactly at the radius


class IndexVersusModel(RuleBasedStateMachine):
    """Adds, withdrawals, re-additions and compactions in any order, checked against a dict."""

    @initialize(limit=st.integers(1, 40), widths=st.sampled_from(LAYOUTS))
    def start(self, limit, widths):
        self.widths = widths
        with layout(widths):
            self.index = PdqIndex(delta_limit=limit)
        self.index.scan_factor = 0.0
        self.model: dict[int, bytes] = {}
        self.centre = bytes(range(32))

    @rule(ids=st.lists(st.integers(0, 60), min_size=1, max_size=12, unique=True), data=st.data())
    def add(self, ids, data):
        fresh = [i for i in ids if i not in self.model]
        codes = [flipped(self.centre, data.draw(flips)) for _ in fresh]
        with layout(self.widths):
            self.index.add(
                np.asarray(fresh, dtype=np.int64),
                as_array(codes) if codes else np.empty((0, 32), np.uint8),
            )
        self.model.update(zip(fresh, codes, strict=True))

    @rule(ids=st.lists(st.integers(0, 70), max_size=8))
    def remove(self, ids):
        with layout(self.widths):
            self.index.remove(ids)
        for i in ids:
            self.model.pop(i, None)

    @rule()
    def compact(self):
        with layout(self.widths):
            self.index.compact()

    @rule(bits=flips, radius=st.integers(0, 48))
    def search(self, bits, radius):
        query = as_array([flipped(self.centre, bits)])
        ids = np.asarray(sorted(self.model), dtype=np.int64)
        codes = (
            as_array([self.model[i] for i in sorted(self.model)])
            if self.model
            else np.empty((0, 32), np.uint8)
        )
        assert self.index.search(query, radius) == brute_force(codes, ids, query, radius)

    @invariant()
    def counts(self):
        assert len(self.index) == len(self.model)


TestIndexVersusModel = IndexVersusModel.TestCase
TestIndexVersusModel.settings = settings(max_examples=40, stateful_step_count=25, deadline=None)


def random_codes(n, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, 32), dtype=np.uint8)


def test_results_sorted_by_distance_then_id_and_matchable_at_once():
    base = random_codes(1)[0].tobytes()
    codes = as_array([flipped(base, range(d)) for d in (3, 0, 3, 40, 31, 32)])
    index = PdqIndex()
    index.add([9, 4, 2, 7, 1, 8], codes)
    assert index.search(as_array([base])) == [[(4, 0), (2, 3), (9, 3), (1, 31)]]
    assert index.search(as_array([base]), radius=40) == [
        [(4, 0), (2, 3), (9, 3), (1, 31), (8, 32), (7, 40)]
    ]
    assert len(index) == 6


def test_withdrawal_reentry_and_compaction():
    codes = random_codes(3000, seed=1)
    ids = np.arange(3000, dtype=np.int64)
    index = PdqIndex(delta_limit=500)
    index.add(ids[:2000], codes[:2000])  # compacted automatically (past the delta limit)
    assert len(index._delta.ids) == 0
    index.add(ids[2000:2100], codes[2000:2100])  # stays in the delta
    assert len(index._delta.ids) == 100
    index.remove([5, 2050, 99999])  # from the tables, from the delta, unknown
    assert index.search(codes[[5, 2050, 6]]) == [[], [], [(6, 0)]]
    assert len(index) == 2098
    with pytest.raises(ValueError, match="already in the index"):
        index.add([6], codes[[6]])
    index.add([5], codes[[7]])  # a withdrawn id may come back, with another code
    assert index.search(codes[[5, 7]]) == [[], [(5, 0), (7, 0)]]
    index.compact()
    assert index.search(codes[[5, 7, 2050]]) == [[], [(5, 0), (7, 0)], []]
    assert len(index) == 2099


@pytest.mark.parametrize(
    ("codes", "message"),
    [
        (np.zeros((2, 31), np.uint8), "shape"),
        (np.zeros(32, np.uint8), "shape"),
        (np.zeros((2, 32), np.int64), "uint8"),
        (np.zeros((2, 32), np.float32), "uint8"),
        ([[0] * 32] * 2, "uint8"),
    ],
)
def test_malformed_codes_refused(codes, message):
    index = PdqIndex()
    with pytest.raises(ValueError, match=message):
        index.add([1, 2], codes)
    with pytest.raises(ValueError, match=message):
        index.search(codes)
    assert len(index) == 0


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        ([1, -2], "non-negative"),
        ([3, 3], "unique"),
        ([1.5, 2.0], "integers"),
        (["a", "b"], "integers"),
        ([1, 2, 3], "3 ids for 2 codes"),
        (np.array([2**63, 1], dtype=np.uint64), "int64"),
    ],
)
def test_bad_ids_refused(ids, message):
    index = PdqIndex()
    with pytest.raises(ValueError, match=message):
        index.add(ids, random_codes(2))
    assert len(index) == 0 and index.search(random_codes(1)) == [[]]


@pytest.mark.parametrize("radius", [-1, 257, True, 3.0])
def test_bad_radius_refused(radius):
    with pytest.raises(ValueError, match="radius"):
        PdqIndex(radius)
    with pytest.raises(ValueError, match="radius"):
        PdqIndex().search(random_codes(1), radius)


def test_save_and_load_keep_everything(tmp_path: Path):
    codes = random_codes(5000, seed=2)
    ids = np.arange(5000, dtype=np.int64) * 7
    index = PdqIndex(radius=40, delta_limit=1000)
    index.add(ids[:4000], codes[:4000])
    index.add(ids[4000:4500], codes[4000:4500])  # delta
    index.remove(ids[::9])
    queries = np.concatenate([codes[::50], random_codes(20, seed=3)])
    expected = index.search(queries)
    target = tmp_path / "bank" / "pdq"
    index.save(target)
    index.save(target)  # replacing an existing index
    assert sorted(p.name for p in tmp_path.joinpath("bank").iterdir()) == ["pdq"]
    meta = json.loads((target / "meta.json").read_text())
    assert meta["format"] == "chorus-pdq-index" and meta["radius"] == 40
    for mmap in (True, False):
        loaded = PdqIndex.load(target, mmap=mmap)
        assert len(loaded) == len(index) and loaded.radius == 40
        assert loaded.search(queries) == expected
        loaded.remove(ids[1:2])  # the tombstones are writable even when mapped
        loaded.add(ids[4500:], codes[4500:])
        assert loaded.search(codes[[1, 4600]]) == [[], [(ids[4600], 0)]]
        loaded.save(target)  # over the files it maps
        assert PdqIndex.load(target).search(codes[[1, 4600]]) == [[], [(ids[4600], 0)]]
        index.save(target)


def test_damaged_index_refused(tmp_path: Path):
    index = PdqIndex()
    index.add(np.arange(100), random_codes(100))
    index.compact()
    index.save(tmp_path / "ix")
    rows = np.load(tmp_path / "ix" / "rows.npy")
    rows[3] = 10**6
    np.save(tmp_path / "ix" / "rows.npy", rows)
    with pytest.raises(ValueError, match="rows"):
        PdqIndex.load(tmp_path / "ix")
    (tmp_path / "ix" / "meta.json").write_text('{"format": "other"}')
    with pytest.raises(ValueError, match="format"):
        PdqIndex.load(tmp_path / "ix")
    with pytest.raises(ValueError, match=r"meta\.json"):
        PdqIndex.load(tmp_path / "missing")
    index.save(tmp_path / "ix")
    np.save(tmp_path / "ix" / "ids.npy", np.array(["a"] * 100, dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match=r"ids\.npy"):
        PdqIndex.load(tmp_path / "ix")


def test_plan_and_layout():
    for n in (0, 10, 1000, 10**6, 10**7, 10**9):
        widths = pdq_index.plan(n)
        assert sum(widths) == 256 and max(widths) <= 24 and len(widths) * 3 > 31
    assert pdq_index.plan(10**7) == (24, 24, 24) + (23,) * 8


def test_a_compaction_seen_halfway_neither_loses_nor_repeats(tmp_path: Path):
    codes = random_codes(50, seed=4)
    index = PdqIndex(delta_limit=1000)
    index.add(np.arange(50), codes)  # all in the delta
    old_delta = index._delta
    index.compact()
    index._delta = old_delta  # what a reader between compact()'s two swaps can see
    assert index.search(codes[:3]) == [[(0, 0)], [(1, 0)], [(2, 0)]]
    index.save(tmp_path / "ix")
    loaded = PdqIndex.load(tmp_path / "ix")
    assert len(loaded) == 50 and loaded.search(codes[:1]) == [[(0, 0)]]
