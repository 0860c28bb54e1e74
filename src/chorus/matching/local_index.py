"""The in-memory index of banked photos' local features (:mod:`chorus.fingerprint.local`).

A lookup finds **candidates** by their descriptors and then runs the full geometric check
(:func:`chorus.fingerprint.local.best_match`) on each, so every photo it returns is one
that checking the copy against every banked photo would return too; what the candidate
step can do is miss one. ``benchmarks/bench_local_lookup.py`` measures how often, against
checking every photo (:meth:`LocalIndex.brute_force`). Before the check, an exact
pre-check (:meth:`LocalIndex.close_enough`) drops the candidates with fewer than
``local.MIN_INLIERS`` corners within ``local.RADIUS`` bits of some corner of one feature
set: the check rejects those before fitting anything, so this loses no match.

Candidates come from hash tables over fixed subsets of the 64 descriptor bits
(locality-sensitive hashing for Hamming space): every banked corner is filed under
:data:`TABLES` keys of :data:`KEY_BITS` bits each, and each corner of a copy looks up its
own keys. A hit (copy corner, table, banked corner) whose two descriptors are also within
``local.RADIUS`` bits is a *close* hit, as the corners of a verified match are; a hit
whose keys agree by chance is mostly far (a key fixes 22 of the 64 bits). A photo's votes
are its close hits' distinct copy corners or distinct banked corners, whichever are fewer
(a corner of a repeated texture votes once); photos with at least :data:`MIN_VOTES` are
ranked by votes (then hits) and the first :data:`MAX_CANDIDATES` checked. Only photos with
:data:`RAW_HITS` hits of any kind have their banked descriptors fetched and compared
(a photo with fewer than MIN_VOTES hits cannot have as many votes; RAW_HITS is one more,
for speed, so a photo with two close votes from two hits is missed). Keys shared
by more than :data:`MAX_BUCKET` corners (textures common to many photos) are skipped:
they vote for everything and tell little. The bound is a trade of speed for recall that
depends on the bank's size: see :data:`MAX_BUCKET`.

Layout: corners in flat arrays (descriptor, position, size: 20 bytes a corner);
each table in compressed rows (a 2^KEY_BITS offset array and one int32 per corner: the
photo's slot and the corner's number in the photo). Photos added after the last
:meth:`build` sit in a small overflow table until the next build; removed photos are
dropped from the answers at once and from the arrays at the next build.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from chorus.fingerprint.local import MIN_INLIERS, RADIUS, LocalFeatures, LocalMatch, best_match

TABLES: Final = 8
KEY_BITS: Final = 22
#: Close votes a candidate needs. Measured on every 7th copy of
#: ``benchmarks/bench_local_lookup.py`` (1,249 brute-force matches) with a 200k-image bank
#: and MAX_BUCKET 51, MAX_CANDIDATES 5 (which lost 2.40% with the earlier plain votes, as
#: 256 and 24 did at 1M): 0.80% lost with 2, 0.88% with 3.
MIN_VOTES: Final = 2
#: Hits of any kind (close or not) a photo needs before its banked descriptors are read to
#: find its close hits. MIN_VOTES would lose nothing (a photo with fewer hits cannot have
#: as many votes); one more skips reading the descriptors of the many photos with two
#: chance hits. Measured on every 7th copy of ``benchmarks/bench_local_lookup.py`` at 1M
#: (1,249 brute-force matches; one core of 2 shared with other work): 2 lost 9 (0.72%) at
#: 97-100 copies/s, 3 lost 10 (0.80%) at 117-127/s.
RAW_HITS: Final = 3
#: At most this many candidates (most votes first) are checked per copy: on the bank
#: above, 24 lost 0.56% of the matches, 12 0.64%, 5 0.80% (close votes rank a true photo
#: first or not at all, mostly).
MAX_CANDIDATES: Final = 16
#: Keys filed under more corners than this are not looked up. Measured on
#: ``benchmarks/bench_local_lookup.py``'s 1M-image bank against brute force, on every 7th
#: of its 10,000 copies (all ten copy kinds; 1,266 matches), with MAX_CANDIDATES 24, on 2
#: cores shared with another job: 256 lost 2.3% at about 120 copies/s, 512 1.7% at 70/s,
#: 1024 2.1% at 50/s, 4096 2.0% at 38/s (MAX_CANDIDATES 64 with 512: 1.3% at 56/s); 128
#: lost 23% on two copy kinds (a true corner's bucket is crowded out: the synthetic bank
#: holds about 1,000 near-copies of every real corner, about a tenth of which share a
#: key). So the bound buys speed; the matches lost are mostly hard copies (70% crops,
#: screenshots) whose photo gets too few votes to rank in the top MAX_CANDIDATES. (Those
#: numbers are for votes of any hit; close votes lose far fewer: see MIN_VOTES.)
#: Buckets grow with the bank, so a much larger bank needs this raised (or longer keys).
MAX_BUCKET: Final = 256
#: From this many corners on, each table keeps an offset per key (16 MiB a table) rather
#: than its sorted keys (4 bytes a corner), which is smaller for a large bank.
DENSE_FROM: Final = 1 << 22
#: (photo, copy corner) pairs are counted as photo << _SHIFT | corner: room for every corner
#: of the most feature sets a lookup may bring (16 sets of at most 512 corners each).
_SHIFT: Final = 16
#: The overflow table is merged into the arrays when it holds this many photos.
REBUILD_AFTER: Final = 20_000

_rng = np.random.default_rng(0x10CA1)
#: The bit positions of each table's key (fixed, so an index is rebuilt the same way).
_POSITIONS: Final = np.stack(
    [np.sort(_rng.choice(64, size=KEY_BITS, replace=False)) for _ in range(TABLES)]
).astype(np.uint64)

Ints = npt.NDArray[np.int64]


def _byte_tables() -> npt.NDArray[np.int64]:
    """Per descriptor byte b, its value v and table t: the bits of t's key that v sets."""
    out = np.zeros((8, 256, TABLES), dtype=np.int64)
    values = np.arange(256, dtype=np.int64)
    for t in range(TABLES):
        for i, position in enumerate(_POSITIONS[t].tolist()):
            byte, bit = divmod(int(position), 8)
            out[byte, :, t] |= ((values >> bit) & 1) << i
    return out


#: Keys are put together from one look-up per descriptor byte (8, not a step per key bit).
_BYTE_KEYS: Final = _byte_tables()


def table_keys(descriptors: npt.NDArray[np.uint64], table: int | None = None) -> Ints:
    """Keys of 64-bit descriptors: corners x tables, or one table's keys (corners,)."""
    octets = np.ascontiguousarray(descriptors, dtype=np.uint64).view(np.uint8)
    octets = octets.reshape(-1, 8)
    if not np.little_endian:  # byte b of the view must hold descriptor bits 8b..8b+7
        octets = octets[:, ::-1]
    if table is None:
        keys = np.zeros((len(descriptors), TABLES), dtype=np.int64)
        for byte in range(8):
            keys |= _BYTE_KEYS[byte][octets[:, byte]]
        return keys
    one = np.zeros(len(descriptors), dtype=np.int64)
    for byte in range(8):
        one |= _BYTE_KEYS[byte, :, table][octets[:, byte]]
    return one


def _runs(values: Ints) -> tuple[Ints, Ints]:
    """Where each run of equal values of a sorted array starts, and its length."""
    if not len(values):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    starts = np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1])))
    return starts, np.diff(np.append(starts, len(values)))


def _distinct(photo: Ints, corner: Ints) -> tuple[Ints, Ints]:
    """The photos (ascending) and how many distinct ``corner`` values each has."""
    pairs = np.sort(photo << _SHIFT | corner)
    first = np.concatenate(([True], pairs[1:] != pairs[:-1]))
    owners = pairs[first] >> _SHIFT
    starts, counts = _runs(owners)
    return owners[starts], counts


class LocalIndex:
    """Banked photos' local features by key (an integer the caller chooses: a row id)."""

    def __init__(self) -> None:
        self._slot_of: dict[int, int] = {}
        self._key_of: list[int] = []
        self._removed: set[int] = set()  # slots removed since the last build
        # per slot: corner range in the flat arrays and the image size
        self._start = np.zeros(0, dtype=np.int64)
        self._count = np.zeros(0, dtype=np.int64)
        self._size = np.zeros((0, 2), dtype=np.int64)
        self._desc = np.zeros(0, dtype=np.uint64)
        self._points = np.zeros((0, 3), dtype=np.float32)
        self._offsets: list[npt.NDArray[np.int64]] = []
        # per table, in key order: slot << bits | the corner's number in its photo
        self._owners: list[npt.NDArray[np.signedinteger]] = []
        self._bits = 0
        self._built = 0  # slots covered by the compressed tables
        self._pending: list[LocalFeatures] = []  # slots >= built not yet in flat arrays
        # per table and key: (slot, corner of the photo) of the photos added since the build
        self._overflow: list[dict[int, list[tuple[int, int]]]] = [{} for _ in range(TABLES)]

    def __len__(self) -> int:
        return len(self._slot_of)

    @property
    def nbytes(self) -> int:
        arrays: list[np.ndarray] = [self._desc, self._points, self._start, self._count]
        arrays += [self._size, *self._offsets, *self._owners]
        return sum(a.nbytes for a in arrays)

    # -- changes -------------------------------------------------------------------------
    def add(self, key: int, features: LocalFeatures) -> None:
        if key in self._slot_of:
            self.remove(key)
        slot = len(self._key_of)
        self._slot_of[key] = slot
        self._key_of.append(key)
        self._pending.append(features)
        for t, column in enumerate(table_keys(features.descriptors).T.tolist()):
            for c, k in enumerate(column):
                self._overflow[t].setdefault(k, []).append((slot, c))
        if len(self._pending) >= REBUILD_AFTER:
            self.build()

    def add_many(self, items: list[tuple[int, LocalFeatures]]) -> None:
        """Add many photos and rebuild once (loading a bank)."""
        for key, features in items:
            if key in self._slot_of:
                self.remove(key)
            self._slot_of[key] = len(self._key_of)
            self._key_of.append(key)
            self._pending.append(features)
        self.build()

    def remove(self, key: int) -> None:
        slot = self._slot_of.pop(key, None)
        if slot is not None:
            self._removed.add(slot)

    def build(self) -> None:
        """Merge the overflow into the arrays and drop removed photos."""
        removed = self._removed
        feats: list[tuple[int, LocalFeatures]] = []
        for slot in range(self._built):
            if slot not in removed:
                feats.append((self._key_of[slot], self._features(slot)))
        for i, f in enumerate(self._pending):
            if self._built + i not in removed:
                feats.append((self._key_of[self._built + i], f))
        counts = np.array([len(f) for _k, f in feats], dtype=np.int64)
        sizes = np.array([(f.width, f.height) for _k, f in feats], np.int64).reshape(-1, 2)
        desc = np.concatenate([f.descriptors for _k, f in feats]) if feats else None
        points = np.concatenate([f.points for _k, f in feats]) if feats else None
        self.load([k for k, _f in feats], counts, sizes, points, desc)

    def load(
        self,
        keys: list[int],
        counts: Ints,
        sizes: Ints,
        points: npt.NDArray[np.float32] | None,
        descriptors: npt.NDArray[np.uint64] | None,
    ) -> None:
        """Replace the whole index with photos given as flat arrays: ``counts[i]`` corners
        of photo ``keys[i]`` (image size ``sizes[i]``: width, height) follow each other in
        ``points`` and ``descriptors`` (loading a large bank without an object a photo)."""
        n = len(keys)
        self._count = np.asarray(counts, dtype=np.int64)
        self._start = (np.cumsum(self._count) - self._count).astype(np.int64)
        self._size = np.asarray(sizes, dtype=np.int64).reshape(-1, 2)
        no_desc, no_points = np.zeros(0, np.uint64), np.zeros((0, 3), np.float32)
        self._desc = no_desc if descriptors is None else descriptors.astype(np.uint64, copy=False)
        self._points = no_points if points is None else points.astype(np.float32, copy=False)
        self._key_of = list(keys)
        self._slot_of = {k: s for s, k in enumerate(self._key_of)}
        self._removed = set()
        most = int(self._count.max()) if n else 0
        self._bits = bits = max(1, (most - 1).bit_length())
        wide = n << bits >= 1 << 31
        owner = np.repeat(np.arange(n, dtype=np.int64) << bits, self._count)
        owner += np.arange(len(self._desc), dtype=np.int64) - np.repeat(self._start, self._count)
        owner = owner.astype(np.int64 if wide else np.int32)
        self._offsets, self._owners = [], []
        for t in range(TABLES):
            column = table_keys(self._desc, t)
            order = np.argsort(column, kind="stable")
            self._owners.append(owner[order])
            if len(column) >= DENSE_FROM:
                bins = np.bincount(column, minlength=1 << KEY_BITS)
                self._offsets.append(np.concatenate(([0], np.cumsum(bins))).astype(np.int32))
            else:  # a small bank: the sorted keys themselves (no 16 MB offset table)
                self._offsets.append(column[order].astype(np.int32))
            del column, order
        self._built = n
        self._pending = []
        self._overflow = [{} for _ in range(TABLES)]

    # -- lookups -------------------------------------------------------------------------
    def _features(self, slot: int) -> LocalFeatures:
        if slot >= self._built:
            return self._pending[slot - self._built]
        s, c = int(self._start[slot]), int(self._count[slot])
        w, h = (int(v) for v in self._size[slot])
        return LocalFeatures(w, h, self._points[s : s + c], self._desc[s : s + c])

    def _ranges(self, table: int, keys: Ints) -> tuple[Ints, Ints]:
        """Where each key's corners lie in ``table``'s owner array."""
        offsets = self._offsets[table]
        if len(self._desc) >= DENSE_FROM:
            return offsets[keys].astype(np.int64), offsets[keys + 1].astype(np.int64)
        probe = keys.astype(np.int32)  # the array's own type: no copy of it per search
        lo = np.searchsorted(offsets, probe, side="left").astype(np.int64)
        return lo, np.searchsorted(offsets, probe, side="right").astype(np.int64)

    def candidates(self, queries: list[LocalFeatures]) -> list[int]:
        """Slots of photos with at least :data:`MIN_VOTES` close votes, most first.

        A hit is a (copy corner, table, banked corner) whose keys agree; it is a *close*
        hit when the two descriptors are within ``local.RADIUS`` bits, as the corners of a
        verified match are. A photo's votes are its close hits' distinct copy corners or
        distinct banked corners, whichever are fewer (one corner of a repeated texture
        cannot vote many times); ties go to the photo with more hits. Only photos with
        :data:`RAW_HITS` hits are looked at for close hits.

        The hits are counted by sorting, not per photo slot: each hit is one int64 (the
        table entry, then the copy's corner), so sorting them groups them by photo, then
        banked corner, and the descriptors are read in address order."""
        if not queries:
            return []
        desc = np.concatenate([q.descriptors for q in queries])
        keys = table_keys(desc)
        corner = np.arange(len(desc), dtype=np.int64)
        bits = self._bits
        # per hit in the tables: entry (slot << bits | the photo's corner) << _SHIFT | the
        # copy's corner; hits in the overflow: slot, the photo's corner, the copy's corner
        parts: list[Ints] = []
        extra: list[tuple[int, int, int]] = []
        for t in range(TABLES):
            if self._built:
                lo, hi = self._ranges(t, keys[:, t])
                sizes = hi - lo
                sizes[sizes > MAX_BUCKET] = 0
                total = int(sizes.sum())
                if total:
                    where = np.repeat(lo - (np.cumsum(sizes) - sizes), sizes)
                    where += np.arange(total, dtype=np.int64)
                    packed = self._owners[t][where].astype(np.int64) << _SHIFT
                    packed |= np.repeat(corner, sizes)
                    parts.append(packed)
            if self._pending:
                table = self._overflow[t]
                extra += [
                    (slot, theirs, c)
                    for c, k in enumerate(keys[:, t].tolist())
                    for slot, theirs in table.get(k, ())
                ]
        hit = np.sort(np.concatenate(parts)) if parts else np.zeros(0, np.int64)
        photo = hit >> (_SHIFT + bits)
        starts, hits = _runs(photo)
        hit_photo = photo[starts]  # the photos with hits (ascending) and how many each
        # a photo's hits bound its votes from above: only photos with RAW_HITS hits are
        # looked at further (their banked descriptors fetched and compared)
        hit = hit[np.repeat(hits >= RAW_HITS, hits)]
        photo = hit >> (_SHIFT + bits)
        theirs_ = (hit >> _SHIFT) & ((1 << bits) - 1)
        mine = hit & ((1 << _SHIFT) - 1)
        banked = self._desc[self._start[photo] + theirs_]
        if extra:
            late = np.array(extra, dtype=np.int64)
            late_photo, late_hits = np.unique(late[:, 0], return_counts=True)
            # overflow slots follow every built one: the photos stay in ascending order
            hit_photo = np.concatenate((hit_photo, late_photo))
            hits = np.concatenate((hits, late_hits))
            late = late[late_hits[np.searchsorted(late_photo, late[:, 0])] >= RAW_HITS]
            photo = np.concatenate((photo, late[:, 0]))
            theirs_ = np.concatenate((theirs_, late[:, 1]))
            mine = np.concatenate((mine, late[:, 2]))
            found = [self._pending[s - self._built].descriptors[c] for s, c in late[:, :2].tolist()]
            banked = np.concatenate((banked, np.array(found, dtype=np.uint64)))
        close = np.bitwise_count(desc[mine] ^ banked) <= RADIUS
        photo, mine, theirs_ = photo[close], mine[close], theirs_[close]
        if not len(photo):
            return []
        owners, bank_votes = _distinct(photo, theirs_)
        _same, copy_votes = _distinct(photo, mine)  # the same photos
        votes = np.minimum(copy_votes, bank_votes)
        keep = votes >= MIN_VOTES
        owners, votes = owners[keep], votes[keep]
        order = np.lexsort((owners, -hits[np.searchsorted(hit_photo, owners)], -votes))
        ranked = owners[order]
        if self._removed:
            ranked = ranked[~np.isin(ranked, np.fromiter(self._removed, dtype=np.int64))]
        return [int(s) for s in ranked[:MAX_CANDIDATES]]

    def close_enough(self, slots: list[int], queries: list[LocalFeatures]) -> list[int]:
        """Of ``slots``, those whose photo has at least ``local.MIN_INLIERS`` corners with a
        corner of one feature set within ``local.RADIUS`` bits (and as many corners as
        that, in a set of as many): the geometric check rejects every other photo before
        fitting anything, so dropping them loses nothing. One XOR and popcount of all the
        slots' descriptors against each set."""
        feats = [self._features(s) for s in slots]
        keep = [i for i, f in enumerate(feats) if len(f) >= MIN_INLIERS]
        sets = [q.descriptors for q in queries if len(q) >= MIN_INLIERS]
        if not keep or not sets:
            return []
        desc = np.concatenate([feats[i].descriptors for i in keep])
        starts = np.cumsum([0] + [len(feats[i]) for i in keep[:-1]])
        most = np.zeros(len(keep), dtype=np.int64)
        for q in sets:
            near = np.bitwise_count(desc[:, None] ^ q[None, :]).min(axis=1) <= RADIUS
            np.maximum(most, np.add.reduceat(near.astype(np.int64), starts), out=most)
        return [slots[keep[i]] for i in np.flatnonzero(most >= MIN_INLIERS).tolist()]

    def search(self, queries: list[LocalFeatures]) -> list[tuple[int, LocalMatch]]:
        """Keys of the banked photos a copy (its feature sets) verifiably shows, with the
        match, strongest first."""
        out = []
        for slot in self.close_enough(self.candidates(queries), queries):
            match = best_match(self._features(slot), queries)
            if match is not None:
                out.append((self._key_of[slot], match))
        out.sort(key=lambda item: (-item[1].inliers, -item[1].share, item[0]))
        return out

    def brute_force(self, queries: list[LocalFeatures]) -> list[tuple[int, LocalMatch]]:
        """What :meth:`search` would return if every banked photo were checked."""
        out = []
        for key, slot in self._slot_of.items():
            match = best_match(self._features(slot), queries)
            if match is not None:
                out.append((key, match))
        out.sort(key=lambda item: (-item[1].inliers, -item[1].share, item[0]))
        return out
