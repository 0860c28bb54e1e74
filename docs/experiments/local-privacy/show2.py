import sys; sys.path[:0] = ['/work/main', '/work/main/src']
import numpy as np
from pathlib import Path
from PIL import Image
import cv2
import tests.fingerprint.test_local_privacy as t
from tests.fingerprint import local_inversion as inv
from chorus.fingerprint import robust
from chorus.fingerprint.benchmark.evaluate import load_photo
names = sys.argv[1:]
photos = {p.stem[:8]: p for p in sorted(Path('/work/shared/data/photos').glob('*.jpg'))}
def norm(a):
    a = (a - a.min()) / (np.ptp(a) + 1e-9) * 255
    return Image.fromarray(a.astype(np.uint8)).resize((128, 128), Image.Resampling.NEAREST)
def bands(a, b):
    lo = lambda x: cv2.GaussianBlur(x.astype(np.float64), (0, 0), 3, borderType=cv2.BORDER_REFLECT)
    return inv.correlation(lo(a), lo(b)), inv.correlation(a - lo(a), b - lo(b))
tiles = []
for n in names:
    r = t._stored(photos[n])
    data, _ = load_photo(photos[n]); luma = robust.luma_for_hashing(data)
    codes = robust.codes_for(luma)
    full = [(inv.window(nm, luma.shape), c) for nm, c in codes.bank if nm == 'full']
    pdq = inv.rebuild(t.GRID, inv.robust_system(full, luma.shape, t.GRID))
    start = inv.rebuild(t.GRID, r.codes)
    img, _ = inv.attack(r.features, t.GRID, r.codes, weight=t.WEIGHT, start=start)
    th = r.thumbnail
    print(n, 'full-only %.2f' % inv.correlation(pdq, th), 'codes %.2f' % inv.correlation(start, th), 'combined %.2f' % inv.correlation(img, th),
          '| low/high bands: full %.2f/%.2f codes %.2f/%.2f combined %.2f/%.2f' % (*bands(pdq, th), *bands(start, th), *bands(img, th)))
    tiles.append([norm(th), norm(pdq), norm(start), norm(img)])
out = Image.new('L', (4 * 132, len(tiles) * 132), 255)
for i, row in enumerate(tiles):
    for j, tile in enumerate(row):
        out.paste(tile, (j * 132, i * 132))
out.save('/work/exp/show2.png')
