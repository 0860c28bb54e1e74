import sys, json, os
sys.path[:0] = ['/work/main', '/work/main/src', '/work/exp']
import numpy as np
from pathlib import Path
import bits
sel = bits.install()
import tests.fingerprint.test_local_privacy as t
from tests.fingerprint import local_inversion as inv
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
        img, _ = inv.attack(r.features, t.GRID, r.codes, weight=w, start=start)
        row[f'w{w}'] = inv.correlation(img, r.thumbnail)
    out.write(json.dumps(row) + '\n'); out.flush()
