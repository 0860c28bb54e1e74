import sys; sys.path[:0] = ['/work/main', '/work/main/src']
import numpy as np, cv2, json
from pathlib import Path
import tests.fingerprint.test_local_privacy as t
from tests.fingerprint import local_inversion as inv
from chorus.fingerprint import robust
from chorus.fingerprint.benchmark.evaluate import load_photo
photos = sorted(Path('/work/shared/data/photos').glob('*.jpg'))[:60]
def edges(a):
    a = a.astype(np.float64)
    return np.hypot(cv2.Sobel(a, cv2.CV_64F, 1, 0), cv2.Sobel(a, cv2.CV_64F, 0, 1))
rows = []
thumbs = []
for p in photos:
    data, _ = load_photo(p); luma = robust.luma_for_hashing(data)
    codes = robust.codes_for(luma)
    wins = [(b, c) for n, c in codes.bank if (b := inv.window(n, luma.shape))]
    full = [(inv.window(n, luma.shape), c) for n, c in codes.bank if n == 'full']
    from PIL import Image
    th = np.asarray(Image.fromarray(luma.astype(np.float32), mode='F').resize((32, 32), Image.Resampling.BOX), dtype=np.float64)
    a = inv.rebuild(32, inv.robust_system(full, luma.shape, 32))
    b = inv.rebuild(32, inv.robust_system(wins, luma.shape, 32))
    thumbs.append(th)
    rows.append((p.stem[:8], inv.correlation(a, th), inv.correlation(b, th), inv.correlation(edges(a), edges(th)), inv.correlation(edges(b), edges(th)), a, b))
# chance: edges of one photo's rebuild against other photos' thumbnails
chance = [inv.correlation(edges(rows[i][6]), edges(thumbs[(i + 7) % 60])) for i in range(60)]
m = lambda k: (np.mean([r[k] for r in rows]), np.max([r[k] for r in rows]))
print('pearson full %.2f/%.2f codes %.2f/%.2f' % (*m(1), *m(2)))
print('edge corr full %.2f/%.2f codes %.2f/%.2f | chance (codes vs other photo) %.2f/%.2f' % (*m(3), *m(4), np.mean(chance), np.max(chance)))
for r in rows:
    if r[0] in ('0dc84ada','0c4d3d88','0028956e','01fd527c','073f2d48'): print(r[0], ' '.join('%.2f' % x for x in r[1:5]))
