import sys, json
sys.path.insert(0, '/work/main'); sys.path.insert(0, '/work/main/src')
import numpy as np
from pathlib import Path
import tests.fingerprint.test_local_privacy as t
from tests.fingerprint import local_inversion as inv
from chorus.fingerprint import local
photos = sorted(Path('/work/shared/data/photos').glob('*.jpg'))[:60]
part, parts = int(sys.argv[1]), int(sys.argv[2])
out = open(f'/work/exp/control_{part}.jsonl', 'a')
rng = np.random.default_rng(100 + part)
for i, p in enumerate(photos):
    if i % parts != part: continue
    r = t._stored(p)
    start = inv.rebuild(t.GRID, r.codes)
    codes = inv.correlation(start, r.thumbnail)
    img, _ = inv.attack(r.features, t.GRID, r.codes, weight=t.WEIGHT, start=start)
    real = inv.correlation(img, r.thumbnail)
    f = r.features
    noise = local.LocalFeatures(f.width, f.height, f.points, rng.integers(0, 2**63, len(f), dtype=np.uint64))
    img2, _ = inv.attack(noise, t.GRID, r.codes, weight=t.WEIGHT, start=start)
    forged = inv.correlation(img2, r.thumbnail)
    out.write(json.dumps(dict(photo=p.stem[:8], codes=codes, real=real, forged=forged)) + '\n'); out.flush()
