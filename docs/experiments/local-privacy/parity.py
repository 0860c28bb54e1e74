"""Experiment: each stored bit is the XOR of ORB tests k and k+64 (k < 64). Attack that knows it."""
import sys, json, os
sys.path[:0] = ['/work/main', '/work/main/src', '/work/exp']
import numpy as np, cv2
from pathlib import Path
from chorus.fingerprint import local
import bits as B
from tests.fingerprint import local_inversion as inv

K = int(os.environ.get('K', '2'))
PAIRS = B.all_pairs()[: 64 * K]

def install():
    orig = local.select
    def select(corners, limit, spread):
        geo, desc, shape = corners
        b = np.unpackbits(desc, axis=1, bitorder='little')[:, : 64 * K]
        par = b[:, :64].copy()
        for j in range(1, K):
            par ^= b[:, 64 * j: 64 * (j + 1)]
        full = np.zeros((len(desc), 32), np.uint8); full[:, :8] = np.packbits(par, axis=1, bitorder='little')
        return orig((geo, full, shape), limit, spread)
    local.select = select
    inv.orb_test_pairs = lambda samples=400: PAIRS

def gray_of(picture, f):
    image = cv2.resize(picture.astype(np.float32), (f.width, f.height), interpolation=cv2.INTER_LINEAR)
    image = (image - image.min()) / (np.ptp(image) + 1e-9) * 255
    return np.rint(image).astype(np.uint8)

def values(gray, f, angles):
    p1, p2, sigma = inv.sample_points(f, angles)
    image = gray.astype(np.float32)
    out = np.zeros(p1.shape[:2])
    for s in np.unique(sigma):
        smooth = cv2.GaussianBlur(image, (0, 0), float(s), borderType=cv2.BORDER_REFLECT_101)
        rows = np.flatnonzero(sigma == s)
        v = [cv2.remap(smooth, p[rows, :, 0].astype(np.float32), p[rows, :, 1].astype(np.float32), cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101) for p in (p1, p2)]
        out[rows] = v[1] - v[0]   # > 0: darker at p1 (bit 1)
    return out

def parity(signs):
    par = signs[:, :64].copy()
    for j in range(1, K):
        par ^= signs[:, 64 * j: 64 * (j + 1)]
    return par

def search(picture, f, stored):
    gray = gray_of(picture, f)
    best = np.full(len(f), -1.0); pick = np.zeros(len(f))
    for angle in np.arange(36) * 10.0:
        a = np.full(len(f), angle)
        agree = (parity(values(gray, f, a) > 0) == stored).mean(axis=1)
        better = agree > best
        best[better], pick[better] = agree[better], angle
    return pick, best

def decode(picture, f, angles, stored):
    v = values(gray_of(picture, f), f, angles)
    signs = v > 0
    wrong = parity(signs) != stored  # (n, 64)
    mag = np.abs(v).reshape(len(f), K, 64)
    weakest = mag.argmin(axis=1)  # (n, 64)
    for j in range(K):
        flip = wrong & (weakest == j)
        signs[:, 64 * j: 64 * (j + 1)] ^= flip
    return signs

def rows(f, grid, angles, signs):
    w, h = float(f.width), float(f.height)
    p1, p2, sigma = inv.sample_points(f, angles)
    sig = np.repeat(sigma, p1.shape[1])
    def sample(p):
        flat = p.reshape(-1, 2)
        wx = inv._gauss_mass(flat[:, 0], sig, grid, w); wy = inv._gauss_mass(flat[:, 1], sig, grid, h)
        return (wy[:, :, None] * wx[:, None, :]).reshape(len(flat), -1)
    compare = (sample(p2) - sample(p1)) * np.where(signs.reshape(-1), 1.0, -1.0)[:, None]
    return inv.LocalSystem(hinge=inv._unit(compare), zero=np.zeros((0, grid * grid)))

def attack(f, grid, codes, weight, start, rounds=2):
    stored = inv.stored_bits(f)
    picture = start
    for _ in range(rounds):
        angles, _ = search(picture, f, stored)
        signs = decode(picture, f, angles, stored)
        picture = inv.rebuild(grid, codes, rows(f, grid, angles, signs), weight=weight)
    return picture

if __name__ == '__main__':
    install()
    import tests.fingerprint.test_local_privacy as t
    photos = sorted(Path('/work/shared/data/photos').glob('*.jpg'))[:60]
    part, parts, tag = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    weights = [float(w) for w in os.environ.get('WEIGHTS', '0.1').split(',')]
    out = open(f'/work/exp/priv_{tag}_{part}.jsonl', 'a')
    for i, p in enumerate(photos):
        if i % parts != part: continue
        r = t._stored(p)
        start = inv.rebuild(t.GRID, r.codes)
        row = dict(photo=p.stem[:8], codes=inv.correlation(start, r.thumbnail))
        for w in weights:
            row[f'w{w}'] = inv.correlation(attack(r.features, t.GRID, r.codes, w, start), r.thumbnail)
        # control: the decoder given ORB's true angles (attacker cannot have them)
        if os.environ.get('TRUTH'):
            truth = inv.true_angles(r.gray, r.features)
            stored = inv.stored_bits(r.features)
            signs = decode(start, r.features, truth, stored)
            row['truth_angles'] = inv.correlation(inv.rebuild(t.GRID, r.codes, rows(r.features, t.GRID, truth, signs), weight=0.1), r.thumbnail)
        out.write(json.dumps(row) + '\n'); out.flush()
