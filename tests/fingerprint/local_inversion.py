"""An attacker's toolkit against what the bank keeps of a photo: try to rebuild it.

Used by ``test_local_privacy.py`` (and to measure the numbers in
``docs/robust-matching.md``, "Privacy of the local signal"). The attacker knows the scheme
exactly and holds everything the server stores for one photo:

* its **local features** (:mod:`chorus.fingerprint.local`, version 2): per corner x, y,
  size and the first 64 bits of its ORB descriptor, **not its angle**. Bit k says whether
  the photo, smoothed by ORB's 7x7 Gaussian (sigma 2) at the corner's pyramid level, is
  darker at point ``p1[k]`` than at point ``p2[k]`` of a 31x31 patch scaled by the level
  and turned by the corner's angle, which the attacker must now guess.
* its **robust codes** (:mod:`chorus.fingerprint.robust`): signs of low-frequency DCT
  coefficients of nested windows.

The point pairs are not copied from OpenCV's source: :func:`orb_test_pairs` recovers them
from the installed ``cv2`` by probing its descriptor with random patches, as an attacker
with only the library would (the 64 recovered pairs equal the first 64 of
``bit_pattern_31_`` in OpenCV's ``orb.cpp``).

The angles are searched (:func:`search_angles`): against a first picture (the robust
codes' rebuild), each corner is tried at 36 angles and keeps the one whose predicted bits
agree best with the stored ones. With the angles guessed, each stored bit becomes a hinge
(squared, with a margin) on a linear function of an unknown ``grid`` x ``grid`` image of
the frame (piecewise constant cells), the robust codes are least-squares targets as in
``test_robust_privacy.py``, and a smoothness prior fills the rest. The solve is iterated
over the violated hinges (active set), so the result satisfies as many stored
comparisons as it can; then the angles are searched again against it (:func:`attack`).

:func:`true_angles` recomputes ORB's own angles with ``cv2`` on the true image: only the
controls use it (is the model of ORB faithful, does the search find the angles), never
the attack.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from chorus.fingerprint import local, robust

Array = npt.NDArray[np.float64]
#: ORB's patch and smoothing (orb.cpp: patchSize 31, GaussianBlur 7x7, sigma 2), and the
#: radius of the disc its orientation is measured over.
PATCH = 31.0
BLUR_SIGMA = 2.0
#: The attacker's angle search: this many angles per corner (10 degrees apart), and this
#: many rounds of search-then-rebuild (a third round gained nothing on the shared photos).
ANGLE_STEPS = 36
ATTACK_ROUNDS = 2


@functools.cache
def orb_test_pairs(samples: int = 400) -> npt.NDArray[np.int64]:
    """ORB's first :data:`local.BITS` intensity tests, (n, 4): x1, y1, x2, y2 (patch
    offsets, upright, level 0), recovered by probing ``cv2`` with random patches."""
    orb = cv2.ORB_create(nfeatures=10, edgeThreshold=15, patchSize=31)  # type: ignore[attr-defined]
    rng = np.random.default_rng(0x0B)
    side, centre = 64, 32
    offsets = np.array([(x, y) for y in range(-13, 14) for x in range(-13, 14)])
    keypoint = [cv2.KeyPoint(float(centre), float(centre), PATCH, 0.0, 0, 0)]
    values, bits = [], []
    for patch in rng.integers(0, 256, (samples, side, side), dtype=np.uint8):
        _kept, descriptor = orb.compute(patch, keypoint)
        smooth = cv2.GaussianBlur(patch, (7, 7), BLUR_SIGMA, borderType=cv2.BORDER_REFLECT_101)
        values.append(smooth[centre + offsets[:, 1], centre + offsets[:, 0]].astype(np.float64))
        bits.append(np.unpackbits(descriptor[0], bitorder="little")[: local.BITS])
    v, b = np.array(values), np.array(bits).astype(bool)
    # bit k is 1 when the patch is darker at p1 than at p2: it correlates with the pixels
    # near p2 and against those near p1; check the best few candidates of each exactly
    c = np.where(b, 1.0, -1.0).T @ (v - v.mean(axis=0))
    pairs = []
    for k in range(local.BITS):
        candidates = [
            (float(((v[:, i] < v[:, j]) == b[:, k]).mean()), int(i), int(j))
            for i in np.argsort(c[k])[:6]
            for j in np.argsort(-c[k])[:6]
            if i != j
        ]
        agreement, i, j = max(candidates)
        assert agreement > 0.95, "could not recover ORB's test pattern"
        pairs.append((*offsets[i], *offsets[j]))
    return np.array(pairs, dtype=np.int64)


def _erf(x: Array) -> Array:
    # Abramowitz and Stegun 7.1.26 (error < 1.5e-7): numpy has no erf
    sign, x = np.sign(x), np.abs(x)
    t = 1 / (1 + 0.3275911 * x)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    out: Array = sign * (1 - poly * np.exp(-x * x))
    return out


def _gauss_mass(centres: Array, sigma: Array, n: int, extent: float) -> Array:
    """(m, n): the mass of a Gaussian at each centre over each of n cells of [0, extent)."""
    edges = np.linspace(0, extent, n + 1)
    z = (edges[None, :] - centres[:, None]) / (np.sqrt(2) * sigma[:, None])
    cdf = 0.5 * (1 + _erf(z))
    mass: Array = np.diff(cdf, axis=1)
    return mass


@dataclass
class LocalSystem:
    """Rows over the unknown cells: ``hinge`` rows want ``row @ u >= margin``, ``zero``
    rows want ``row @ u == 0``."""

    hinge: Array
    zero: Array


def _unit(rows: Array) -> Array:
    norm = np.linalg.norm(rows, axis=1, keepdims=True)
    keep = norm[:, 0] > 1e-9
    out: Array = rows[keep] / norm[keep]
    return out


def sample_points(features: local.LocalFeatures, angles: Array) -> tuple[Array, Array, Array]:
    """Where each stored bit compares the photo, for corners turned by ``angles`` (n,
    degrees): (n, 64, 2) points p1 and p2 in working pixels, and (n,) the smoothing sigma
    there (ORB's blur, at the corner's level)."""
    pairs = orb_test_pairs().astype(np.float64)
    x, y, size = (features.points[:, i].astype(np.float64) for i in range(3))
    scale = size / PATCH
    a, b = np.cos(np.radians(angles)), np.sin(np.radians(angles))
    out = []
    for px, py in ((pairs[:, 0], pairs[:, 1]), (pairs[:, 2], pairs[:, 3])):
        gx = x[:, None] + scale[:, None] * (px[None, :] * a[:, None] - py[None, :] * b[:, None])
        gy = y[:, None] + scale[:, None] * (px[None, :] * b[:, None] + py[None, :] * a[:, None])
        out.append(np.stack([gx, gy], axis=2))
    return out[0], out[1], BLUR_SIGMA * scale


def stored_bits(features: local.LocalFeatures) -> npt.NDArray[np.bool_]:
    """The stored descriptor bits, (n, 64) booleans (bit k of corner i at [i, k])."""
    words = features.descriptors.astype("<u8").view(np.uint8).reshape(len(features), 8)
    out: npt.NDArray[np.bool_] = np.unpackbits(words, axis=1, bitorder="little")[
        :, : local.BITS
    ].astype(bool)
    return out


def predicted_bits(
    gray: npt.NDArray[np.uint8], features: local.LocalFeatures, angles: Array
) -> Array:
    """The bits the attacker's model of ORB predicts from a working-size image, for the
    stored corners turned by ``angles``: (n, 64) booleans."""
    p1, p2, sigma = sample_points(features, angles)
    image = gray.astype(np.float32)
    out = np.zeros(p1.shape[:2], dtype=bool)
    for s in np.unique(sigma):
        smooth = cv2.GaussianBlur(image, (0, 0), float(s), borderType=cv2.BORDER_REFLECT_101)
        rows = np.flatnonzero(sigma == s)
        values = [
            cv2.remap(
                smooth,
                p[rows, :, 0].astype(np.float32),
                p[rows, :, 1].astype(np.float32),
                cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REFLECT_101,
            )
            for p in (p1, p2)
        ]
        out[rows] = values[0] < values[1]
    return out


def true_angles(gray: npt.NDArray[np.uint8], features: local.LocalFeatures) -> Array:
    """The angles ORB gave the stored corners, recomputed with ``cv2`` on the true working
    image. Only the model check uses this: the attacker never has the image, and the bank
    no longer keeps the angles."""
    keypoints = local._orb().detect(gray, None)
    found = np.array([(k.pt[0], k.pt[1], k.size, k.angle) for k in keypoints])
    gap = np.abs(features.points[:, None, :3] - found[None, :, :3]).max(axis=2)
    nearest = gap.argmin(axis=1)
    # positions and sizes are stored to 1/64 px: each stored corner is one of ORB's
    assert gap[np.arange(len(features)), nearest].max() < 0.05, "not the stored corners"
    out: Array = found[nearest, 3]
    return out


def search_angles(
    picture: Array, features: local.LocalFeatures, steps: int = ANGLE_STEPS
) -> tuple[Array, Array]:
    """The attacker's guess at the angles that are not stored: for each corner, of
    ``steps`` angles, the one whose predicted bits on ``picture`` (any size, stretched
    to the working frame) agree best with the stored bits. Returns the angles and the
    share of bits each agrees on."""
    image = cv2.resize(
        picture.astype(np.float32),
        (features.width, features.height),
        interpolation=cv2.INTER_LINEAR,
    )
    image = (image - image.min()) / (np.ptp(image) + 1e-9) * 255
    gray = np.rint(image).astype(np.uint8)
    truth = stored_bits(features)
    best = np.full(len(features), -1.0)
    pick = np.zeros(len(features))
    for angle in np.arange(steps) * (360.0 / steps):
        turned = np.full(len(features), angle)
        agree = (predicted_bits(gray, features, turned) == truth).mean(axis=1)
        better = agree > best
        best[better], pick[better] = agree[better], angle
    return pick, best


def angle_error(a: Array, b: Array) -> Array:
    """|a - b| in degrees, around the circle."""
    out: Array = np.abs((a - b + 180) % 360 - 180)
    return out


def local_system(features: local.LocalFeatures, grid: int, angles: Array) -> LocalSystem:
    """Everything the stored bits say about the photo, for corners turned by ``angles``,
    as hinge rows over a grid x grid image. (Version 1 also kept each angle, the direction
    of the patch's intensity centroid, which gave rows of its own; version 2 does not, and
    a searched angle is only the attacker's guess, so it only places the bits.)"""
    w, h = float(features.width), float(features.height)
    p1, p2, sigma = sample_points(features, angles)
    sig = np.repeat(sigma, p1.shape[1])

    def sample(p: Array) -> Array:
        flat = p.reshape(-1, 2)
        wx = _gauss_mass(flat[:, 0], sig, grid, w)
        wy = _gauss_mass(flat[:, 1], sig, grid, h)
        rows: Array = (wy[:, :, None] * wx[:, None, :]).reshape(len(flat), -1)
        return rows

    bits = stored_bits(features).reshape(-1)
    # bit 1: darker at p1 than at p2, so (p2 - p1) @ u > 0
    compare = (sample(p2) - sample(p1)) * np.where(bits, 1.0, -1.0)[:, None]
    return LocalSystem(hinge=_unit(compare), zero=np.zeros((0, grid * grid)))


def attack(
    features: local.LocalFeatures,
    grid: int,
    codes: tuple[Array, Array] | None = None,
    *,
    weight: float = 0.1,
    rounds: int = ATTACK_ROUNDS,
    seed: int = 3,
    start: Array | None = None,
) -> tuple[Array, Array]:
    """The strongest attack we have on version 2 (no angles stored): start from the
    robust codes' picture (``start``, when the caller has it already; without codes, from
    the bits placed at random angles), search every corner's angle against the current
    picture, rebuild with the bits at those angles, and again. Returns the image and the
    last angles searched."""
    if start is not None:
        picture = start
    elif codes is not None:
        picture = rebuild(grid, codes)
    else:
        guess = np.random.default_rng(seed).uniform(0, 360, len(features))
        picture = rebuild(grid, None, local_system(features, grid, guess), weight=weight)
    angles = np.zeros(len(features))
    for _ in range(rounds):
        angles, _agree = search_angles(picture, features)
        picture = rebuild(grid, codes, local_system(features, grid, angles), weight=weight)
    return picture, angles


def _box(lo: float, hi: float, n_in: int, n_out: int = robust.GRID) -> Array:
    """Area averaging of n_out cells over [lo, hi) of an axis of n_in cells."""
    matrix = np.zeros((n_out, n_in))
    edges = np.linspace(lo, hi, n_out + 1)
    for i in range(n_out):
        a, b = edges[i], edges[i + 1]
        for j in range(int(np.floor(a)), min(n_in, int(np.ceil(b)))):
            matrix[i, j] = max(0.0, min(b, j + 1) - max(a, j))
        matrix[i] /= matrix[i].sum()
    return matrix


def window(name: str, shape: tuple[int, ...]) -> robust.Box | None:
    """The window a stored robust code hashes (photos without borders; None for a flip or
    rotation of a region, which is the same window's information)."""
    whole: robust.Box = (0, shape[0], 0, shape[1])
    if name in ("full", "trim", "main"):
        return whole
    if name[0] in "st" and name[1:].isdigit():
        return robust.window(whole, int(name[1:]) / 100)
    return None


def robust_system(
    codes: list[tuple[robust.Box, str]], shape: tuple[int, ...], grid: int
) -> tuple[Array, Array]:
    """The robust codes as least-squares rows and targets (the robust codes' attack: the
    signs of each window's DCT coefficients, weighted by the 1/frequency magnitudes
    natural images have)."""
    h, w = shape[:2]
    freq = np.arange(1, 17)
    magnitude = 1 / np.hypot(freq[:, None], freq[None, :]).ravel()
    rows, targets = [], []
    for (top, bottom, left, right), code in codes:
        ry = _box(top * grid / h, bottom * grid / h, grid)
        rx = _box(left * grid / w, right * grid / w, grid)
        rows.append(np.kron(robust._DCT @ ry, robust._DCT @ rx))
        bits = np.unpackbits(np.frombuffer(bytes.fromhex(code), dtype=np.uint8))
        targets.append((2.0 * bits - 1) * magnitude)
    return np.concatenate(rows), np.concatenate(targets)


@functools.cache
def smoothness(grid: int) -> Array:
    """D^T D of the differences between neighbouring cells (the smoothness prior)."""
    step = (np.eye(grid) - np.eye(grid, k=1))[:-1]
    d = np.concatenate([np.kron(np.eye(grid), step), np.kron(step, np.eye(grid))])
    out: Array = d.T @ d
    return out


def rebuild(
    grid: int,
    codes: tuple[Array, Array] | None = None,
    features: LocalSystem | None = None,
    *,
    weight: float = 1.0,
    prior: float = 0.05,
    margin: float = 0.05,
    rounds: int = 4,
) -> Array:
    """The attack's image (grid x grid) from the robust codes' rows, the local features'
    rows (``weight`` against the codes), or both."""
    normal = prior * smoothness(grid) + 1e-6 * np.eye(grid * grid)
    rhs = np.zeros(grid * grid)
    if codes is not None:
        a, y = codes
        normal = normal + a.T @ a
        rhs = rhs + a.T @ y
    if features is None:
        return np.linalg.solve(normal, rhs).reshape(grid, grid)
    hinge, zero = features.hinge * np.sqrt(weight), features.zero * np.sqrt(weight)
    target = margin * np.sqrt(weight)
    normal = normal + zero.T @ zero
    # squared hinge by active set: solve with the rows not yet satisfied, again until the
    # set settles; the Gram matrix of the active rows is updated, not recomputed
    active = np.ones(len(hinge), dtype=bool)
    gram = hinge.T @ hinge
    u = np.zeros(grid * grid)
    for _ in range(rounds):
        u = np.linalg.solve(normal + gram, rhs + target * hinge[active].sum(axis=0))
        now = hinge @ u < target
        if np.array_equal(now, active):
            break
        added, dropped = hinge[now & ~active], hinge[active & ~now]
        gram = gram + added.T @ added - dropped.T @ dropped
        active = now
    return u.reshape(grid, grid)


def density(features: local.LocalFeatures, grid: int) -> Array:
    """What the corner positions alone show: a map of where the corners (detail) are,
    each spread over its own size."""
    w, h = float(features.width), float(features.height)
    x, y, size = (features.points[:, i].astype(np.float64) for i in range(3))
    sigma = np.maximum(size / 2, 1.0)
    wx = _gauss_mass(x, sigma, grid, w)
    wy = _gauss_mass(y, sigma, grid, h)
    out: Array = np.einsum("ky,kx->yx", wy, wx)
    return out


def correlation(a: Array, b: Array) -> float:
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))
