import json, glob, sys, statistics as s
for tag in sys.argv[1:]:
    rows = [json.loads(l) for f in glob.glob(f'/work/exp/priv_{tag}_*.jsonl') for l in open(f)]
    keys = [k for k in rows[0] if k != 'photo']
    print(tag, len(rows), ' '.join(f"{k}: mean {s.mean(r[k] for r in rows):.3f} max {max(r[k] for r in rows):.3f} n>=.65 {sum(r[k]>=.65 for r in rows)}" for k in keys))
    best = [max(r[k] for k in keys if k != 'codes') for r in rows]
    print('  best-of-weights per photo: mean %.3f max %.3f n %d' % (s.mean(best), max(best), sum(b >= .65 for b in best)))
