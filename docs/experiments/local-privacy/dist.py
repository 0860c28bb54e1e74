import sys; sys.path[:0] = ['/work/main/src']
import numpy as np, cv2
from pathlib import Path
from chorus.fingerprint import local
photos = sorted(Path('/work/shared/data/photos').glob('*.jpg'))[::25][:40]
orb = local._orb()
def det(g):
    kp, d = orb.detectAndCompute(g, None)
    return np.array([(k.pt[0], k.pt[1], k.size) for k in kp]), np.unpackbits(d, axis=1, bitorder='little')
res = {m: [] for m in ('raw', 'p2', 'p3', 'p4')}; rnd = {m: [] for m in res}
def forms(b):
    return {'raw': b[:, :64], 'p2': b[:, :64] ^ b[:, 64:128], 'p3': b[:, :64] ^ b[:, 64:128] ^ b[:, 128:192],
            'p4': b[:, :64] ^ b[:, 64:128] ^ b[:, 128:192] ^ b[:, 192:256]}
for p in photos:
    g = local.working_luma(cv2.imread(str(p), cv2.IMREAD_GRAYSCALE).astype(np.float64))
    h, w = g.shape
    t, l = int(h * .05), int(w * .05)
    c = g[t:h - t, l:w - l]
    c = cv2.resize(c, (int(c.shape[1] * .75), int(c.shape[0] * .75)), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode('.jpg', c, [cv2.IMWRITE_JPEG_QUALITY, 50]); c = cv2.imdecode(buf, 0)
    P, Bb = det(g); Q, Qb = det(c)
    mq = np.c_[(P[:, 0] - l) * .75, (P[:, 1] - t) * .75]
    gap = np.hypot(mq[:, None, 0] - Q[None, :, 0], mq[:, None, 1] - Q[None, :, 1])
    ratio = Q[None, :, 2] / (P[:, None, 2] * .75)
    gap[(ratio < .8) | (ratio > 1.25)] = 1e9
    j = gap.argmin(1); keep = gap[np.arange(len(P)), j] < 1.0
    fb, fq = forms(Bb), forms(Qb)
    rng = np.random.default_rng(0)
    for m in res:
        res[m] += list((fb[m][keep] != fq[m][j[keep]]).sum(1))
        a, b = rng.integers(0, len(P), 2000), rng.integers(0, len(Q), 2000)
        rnd[m] += list((fb[m][a] != fq[m][b]).sum(1))
for m in res:
    x, r = np.array(res[m]), np.array(rnd[m])
    print(m, 'true n', len(x), 'median', np.median(x), 'p<=12 %.3f' % (x <= 12).mean(), 'p<=16 %.3f' % (x <= 16).mean(),
          '| random mean %.1f  P(<=12) %.2e P(<=16) %.2e' % (r.mean(), (r <= 12).mean(), (r <= 16).mean()))
