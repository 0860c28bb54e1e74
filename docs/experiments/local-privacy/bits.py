"""Experiment: which 64 of ORB's 256 tests the bank keeps. SELECT env: 'first' | 'short' | 'parity2' ..."""
import functools, os
import numpy as np, cv2
from chorus.fingerprint import local
from tests.fingerprint import local_inversion as inv

@functools.cache
def all_pairs():
    old = local.BITS
    local.BITS = 256
    try:
        return inv.orb_test_pairs.__wrapped__(600)
    finally:
        local.BITS = old

def spans():
    p = all_pairs(); return np.hypot(p[:, 0] - p[:, 2], p[:, 1] - p[:, 3])

def chosen():
    mode = os.environ.get('SELECT', 'first')
    if mode == 'first': return np.arange(64)
    if mode == 'short': return np.argsort(spans(), kind='stable')[:64]
    if mode.startswith('maxspan'):
        lim = float(mode[7:]); s = spans(); idx = np.flatnonzero(s <= lim)
        return idx[:64]
    raise ValueError(mode)

def install():
    sel = chosen()
    orig_select = local.select
    def select(corners, limit, spread):
        geo, desc, shape = corners
        bits = np.unpackbits(desc, axis=1, bitorder='little')[:, sel]
        packed = np.packbits(bits, axis=1, bitorder='little')
        full = np.zeros((len(desc), 32), np.uint8); full[:, :8] = packed
        return orig_select((geo, full, shape), limit, spread)
    local.select = select
    pairs = all_pairs()[sel]
    inv.orb_test_pairs = lambda samples=400: pairs
    return sel
