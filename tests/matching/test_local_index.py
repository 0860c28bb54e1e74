"""The local-feature index: finds what checking every photo finds, follows removals and
additions at once, and gives the same answers in both of its layouts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from chorus.fingerprint import local, robust
from chorus.fingerprint.benchmark.evaluate import load_photo
from chorus.fingerprint.benchmark.transforms import encode
from chorus.matching import local_index
from chorus.matching.local_index import LocalIndex


def _queries(data: bytes) -> list[local.LocalFeatures]:
    luma = robust.luma_for_hashing(data)
    return local.query_features(luma, [r for k, r in robust.regions(luma).items() if k == "main"])


def _crop(image: Image.Image, corner: int) -> bytes:
    w, h = image.size
    cw, ch = round(w * 0.78), round(h * 0.78)
    left, top = (0 if corner % 2 == 0 else w - cw), (0 if corner < 2 else h - ch)
    return encode(image.crop((left, top, left + cw, top + ch)))


@pytest.fixture(scope="module")
def bank(photos: list[Path]) -> list[tuple[local.LocalFeatures, bytes]]:
    out = []
    for path in photos[:12]:
        data, image = load_photo(path)
        features = local.bank_features(robust.luma_for_hashing(data))
        assert features is not None
        out.append((features, _crop(image, len(out) % 4)))
    return out


def _keys(found: list[tuple[int, local.LocalMatch]]) -> list[int]:
    return [k for k, _m in found]


@pytest.mark.parametrize("dense", [False, True])
def test_search_finds_the_crops_brute_force_finds(
    bank: list[tuple[local.LocalFeatures, bytes]], dense: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if dense:
        monkeypatch.setattr(local_index, "DENSE_FROM", 1)
    index = LocalIndex()
    index.add_many([(100 + i, f) for i, (f, _c) in enumerate(bank)])
    assert len(index) == len(bank)
    for i, (_f, copy) in enumerate(bank):
        queries = _queries(copy)
        found, every = index.search(queries), index.brute_force(queries)
        assert set(_keys(found)) <= set(_keys(every))
        assert _keys(found)[:1] == [100 + i] == _keys(every)[:1]


def test_changes_take_effect_at_once(bank: list[tuple[local.LocalFeatures, bytes]]) -> None:
    index = LocalIndex()
    index.add_many([(i, f) for i, (f, _c) in enumerate(bank[:6])])
    for i, (f, _c) in enumerate(bank[6:], start=6):
        index.add(i, f)  # after the build: the overflow table
    index.remove(2)
    index.remove(8)
    assert len(index) == len(bank) - 2
    for i, (_f, copy) in enumerate(bank):
        found = _keys(index.search(_queries(copy)))
        assert (i in found) == (i not in (2, 8))
    index.build()  # removed photos leave the arrays; the rest answer as before
    assert len(index) == len(bank) - 2
    assert _keys(index.search(_queries(bank[7][1])))[:1] == [7]
    assert 2 not in _keys(index.search(_queries(bank[2][1])))
    index.add(2, bank[2][0])  # a photo banked again is found again
    assert _keys(index.search(_queries(bank[2][1])))[:1] == [2]


def test_replacing_a_key_keeps_one_photo(bank: list[tuple[local.LocalFeatures, bytes]]) -> None:
    index = LocalIndex()
    index.add(1, bank[0][0])
    index.add(1, bank[1][0])
    assert len(index) == 1
    assert _keys(index.search(_queries(bank[1][1]))) == [1]
    assert _keys(index.search(_queries(bank[0][1]))) == []


def test_empty_index_and_empty_query() -> None:
    index = LocalIndex()
    assert index.search([]) == []
    rng = np.random.default_rng(1)
    noise = encode(Image.fromarray(rng.integers(0, 255, (300, 400, 3), dtype=np.uint8)))
    assert index.search(_queries(noise)) == []
    index.build()
    assert index.search(_queries(noise)) == []


def test_the_pre_check_keeps_every_photo_the_check_accepts(
    bank: list[tuple[local.LocalFeatures, bytes]],
) -> None:
    index = LocalIndex()
    index.add_many([(i, f) for i, (f, _c) in enumerate(bank[:8])])
    for i, (f, _c) in enumerate(bank[8:], start=8):
        index.add(i, f)  # the overflow's photos too
    slots = list(range(len(bank)))
    dropped = 0
    for _f, copy in bank:
        queries = _queries(copy)
        kept = index.close_enough(slots, queries)
        accepted = [s for s in slots if local.best_match(bank[s][0], queries) is not None]
        assert set(accepted) <= set(kept)
        assert kept == sorted(kept)  # in the order given
        dropped += len(slots) - len(kept)
    assert dropped > len(bank)  # it does skip photos
    assert index.close_enough([], _queries(bank[0][1])) == []
    assert index.close_enough(slots, []) == []


def _features(descriptors: list[int]) -> local.LocalFeatures:
    points = np.random.default_rng(len(descriptors)).random((len(descriptors), 3)) * 300
    return local.LocalFeatures(
        400, 300, points.astype(np.float32), np.array(descriptors, np.uint64)
    )


def test_candidates_count_close_corners_once_each_most_first() -> None:
    rng = np.random.default_rng(7)
    copy = [int(d) for d in rng.integers(0, 1 << 63, size=8, dtype=np.int64)]
    outside = [b for b in range(64) if b not in local_index._POSITIONS[0].tolist()]

    def moved(d: int, bits: int) -> int:  # same key in table 0, ``bits`` bits away
        return d ^ sum(1 << b for b in outside[:bits])

    noise = [int(d) for d in rng.integers(0, 1 << 63, size=8, dtype=np.int64)]
    photos = {
        1: [moved(d, 3) for d in copy[:3]] + noise[:5],  # three close corners
        2: [moved(d, 3) for d in copy],  # eight
        3: [moved(d, 20) for d in copy],  # the keys agree, the descriptors are far
        4: [moved(copy[0], 2), *noise[3:]],  # one close corner, however often it repeats
    }
    index = LocalIndex()
    index.add_many([(k, _features(v)) for k, v in photos.items()])
    slot = {k: index._slot_of[k] for k in photos}
    assert index.candidates([_features(copy)]) == [slot[2], slot[1]]
    assert index.candidates([_features([copy[0]] * 8)]) == []  # photo 4: one corner
    for k, v in photos.items():  # the overflow (photos added since the build) counts alike
        index.add(10 + k, _features(v))
    found = index.candidates([_features(copy)])
    assert set(found) == {slot[2], slot[1], index._slot_of[12], index._slot_of[11]}
    assert set(found[:2]) == {slot[2], index._slot_of[12]}
