#!/usr/bin/python3
"""Which per-frame statistic of the network's own output separates lesion from normal images best?

For a calibrated run (RUN/final.pt) on one split of an `aunet dataset export` (default val: the choice is made
there, never on test), computes per image from the float network's 8-bit probability map and its attention maps:
  topk-K      mean of the K highest probabilities (the box's rule, models/lesion-decision.ts), K in 16..512 of a
              128x128 frame (scaled to the frame as the box scales it: topk-64 takes 100 at 160x160)
  cc-area     pixels of the largest connected component (4-neighbour) of the mask (p > 0.5)
  cc-mass     sum of the probabilities inside that component
  a1-topk-16  mean of the 16 highest values of the coarsest attention map (8x8 at 128x128 input)
and for each: the ROC AUC (lesion vs normal images), and the rule the box would use -- the highest threshold that
keeps at least --sensitivity of the split's lesion images called "lesion" -- with what it then leaves clean on
normal images (95% Wilson intervals). Only statistics that imply a mask to outline when they call "lesion" are
eligible for the box (topk with threshold >= 0.5, cc-*); a1 is reported for comparison.
--cv: 16 normal images are few to choose a rule on, so each rule (one statistic, or two joined by AND with the
top-64 mean) is also judged leave-one-out: every image by thresholds fitted on the other 93; a rule that only
wins in-sample has fitted the handful of normal images, not the network.

/usr/bin/python3 models/training/decision_study.py --run RUN_DIR --data EXPORT_DIR [--split val] [--cv] [--json OUT]
"""
import argparse
import json
import math
import os
import sys
from collections import deque

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import AttentionUNet  # noqa: E402
from train import load, auc, box_k, box_rule  # noqa: E402

KS = [16, 32, 64, 128, 256, 512]


def wilson(k, n, z=1.96):
    if n == 0:
        return [0.0, 1.0]
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return [max(0.0, c - h), min(1.0, c + h)]


def largest_component(mask, prob):
    """(area, probability mass) of the largest 4-connected component of a boolean mask."""
    seen = np.zeros_like(mask, dtype=bool)
    h, w = mask.shape
    best = (0, 0.0)
    for y0, x0 in zip(*np.nonzero(mask)):
        if seen[y0, x0]:
            continue
        seen[y0, x0] = True
        q, area, mass = deque([(y0, x0)]), 0, 0.0
        while q:
            y, x = q.popleft()
            area += 1
            mass += float(prob[y, x])
            for yy, xx in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)):
                if 0 <= yy < h and 0 <= xx < w and mask[yy, xx] and not seen[yy, xx]:
                    seen[yy, xx] = True
                    q.append((yy, xx))
        best = max(best, (area, mass))
    return best


def statistics(net, x, m):
    """Per image: every statistic of STATS from the float network's 8-bit outputs; and whether it has a lesion."""
    stats = {f'topk-{k}': [] for k in KS}
    stats.update({'cc-area': [], 'cc-mass': [], 'a1-topk-16': []})
    has = []
    with torch.no_grad():
        for i in range(0, x.shape[0], 25):
            logits, att = net.forward_with_attention(x[i:i + 25].float() / 255)
            # the engines publish 8-bit probabilities (value / 256)
            prob = torch.clamp(torch.floor(torch.sigmoid(logits) * 256), 0, 255).numpy() / 256
            a1 = att[0].flatten(1)
            for j in range(prob.shape[0]):
                flat = np.sort(prob[j].ravel())[::-1]
                for k in KS:
                    # K names the count at 128x128; the box's k is a fraction of the frame (100 for topk-64 at 160x160)
                    stats[f'topk-{k}'].append(float(flat[:box_k(flat.size, k)].mean()))
                area, mass = largest_component(prob[j, 0] > 0.5, prob[j, 0])
                stats['cc-area'].append(float(area))
                stats['cc-mass'].append(mass)
                stats['a1-topk-16'].append(float(a1[j].topk(min(16, a1.shape[1])).values.mean()))
                has.append(bool(m[i + j].sum() > 0))
    return stats, has


FLOORS = {'topk': 0.5, 'cc': 1e-9}  # a "lesion" call must imply a mask to outline; a1 implies none


def floor_of(name, values):
    return next((f for pre, f in FLOORS.items() if name.startswith(pre)), min(values))


def fit(stats, names, idx, has, target, box=False):
    """Thresholds for "lesion iff every statistic of `names` >= its threshold", fitted on the images `idx`: among the
    threshold pairs that keep as many lesion images called as the rule of the first statistic alone at its floor (or
    `target` of them, if fewer), the most normal images clean, then the most lesion images called, then the lowest
    thresholds (margin for lesion images not seen). One statistic: the highest threshold that keeps them; `box`: the
    box's own rule (models/lesion-decision.ts chooseThreshold), which stays at the floor when `target` is out of reach."""
    les = [i for i in idx if has[i]]
    nor = [i for i in idx if not has[i]]
    cands, hit_l, hit_n = [], [], []
    for n in names:
        v = np.asarray(stats[n])
        f = floor_of(n, stats[n])
        t = np.unique(np.concatenate([[f], v[les][v[les] >= f]]))
        cands.append(t)
        hit_l.append((v[les][None, :] >= t[:, None]).astype(np.int64))  # T x L
        hit_n.append((v[nor][None, :] >= t[:, None]).astype(np.int64))
    need = min(math.ceil(target * len(les) - 1e-9), int(hit_l[0][0].sum()))
    if box and need < math.ceil(target * len(les) - 1e-9):
        return (cands[0][0],)
    if len(names) == 1:
        ok = np.nonzero(hit_l[0].sum(1) >= need)[0]  # thresholds ascend, so `ok` is a prefix
        return (cands[0][ok[-1]],)  # the highest that keeps `need`
    called = hit_l[0] @ hit_l[1].T  # T1 x T2: lesion images over both thresholds
    fired = hit_n[0] @ hit_n[1].T
    score = np.where(called >= need, (len(nor) - fired) * 10000 + called, -1)
    best = score.max()
    i, j = [int(a[0]) for a in np.nonzero(score == best)]  # row-major: lowest t1, then lowest t2
    return (cands[0][i], cands[1][j])


def predict(stats, names, ts, i):
    return all(stats[n][i] >= t for n, t in zip(names, ts))


def cross_validate(stats, has, target, rules, box=()):
    """Leave-one-out over the split: each image judged by the rule's thresholds fitted on all the others; out-of-fold
    lesion images called and normal images clean, with 95% Wilson intervals, against the in-sample fit."""
    n = len(has)
    out = {}
    for names, rule_box in [(r, True) for r in box] + [(r, False) for r in rules]:
        oof = [predict(stats, names, fit(stats, names, [j for j in range(n) if j != i], has, target, rule_box), i) for i in range(n)]
        ts = fit(stats, names, range(n), has, target, rule_box)
        key = ' & '.join(names) + (' (box rule)' if rule_box else '')
        ins = [predict(stats, names, ts, i) for i in range(n)]
        row = {}
        for tag, calls in (('loo', oof), ('inSample', ins)):
            det = sum(c for c, h in zip(calls, has) if h)
            clean = sum(not c for c, h in zip(calls, has) if not h)
            row[tag] = {'detected': det, 'lesion': sum(has), 'clean': clean, 'normal': n - sum(has),
                        'sensitivityCi95': wilson(det, sum(has)), 'specificityCi95': wilson(clean, n - sum(has))}
        row['thresholds'] = [float(t) for t in ts]
        out[key] = row
        l, s_ = row['loo'], row['inSample']
        print(f"{key:26s} LOO: called {l['detected']}/{l['lesion']}, clean {l['clean']}/{l['normal']} "
              f"({l['specificityCi95'][0]:.2f}-{l['specificityCi95'][1]:.2f}) | in-sample {s_['detected']}/{s_['lesion']}, "
              f"{s_['clean']}/{s_['normal']} at {', '.join(f'{t:.4g}' for t in ts)}", flush=True)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--run', required=True)
    p.add_argument('--data', required=True)
    p.add_argument('--split', default='val')
    p.add_argument('--checkpoint', default='final.pt')
    p.add_argument('--sensitivity', type=float, default=0.97)
    p.add_argument('--cv', action='store_true', help='also: leave-one-out estimates of one- and two-statistic rules (AND)')
    p.add_argument('--json')
    a = p.parse_args()
    torch.set_num_threads(1)
    x, m = load(a.data, a.split)
    ck = torch.load(os.path.join(a.run, a.checkpoint))
    net = AttentionUNet(ck['filters'], ck['in_channels'])
    net.load_state_dict(ck['model'])
    net.eval()
    stats, has = statistics(net, x, m)
    n_les, n_nor = sum(has), len(has) - sum(has)
    print(f'{a.split}: {n_les} lesion, {n_nor} normal images; rule: highest threshold keeping >= {a.sensitivity} of lesion images')
    out = {'split': a.split, 'run': os.path.basename(os.path.normpath(a.run)), 'targetSensitivity': a.sensitivity, 'statistics': {}}
    for name, s in stats.items():
        les = [v for v, h in zip(s, has) if h]
        nor = [v for v, h in zip(s, has) if not h]
        r = box_rule(les, nor, a.sensitivity, floor_of(name, s))
        t, det, clean = r['threshold'], r['called'], r['clean']
        lo, hi = wilson(clean, n_nor)
        out['statistics'][name] = {'auc': auc(les, nor), 'threshold': t, 'detected': det, 'lesion': n_les, 'clean': clean, 'normal': n_nor,
                                   'specificityCi95': [lo, hi], 'boxEligible': not name.startswith('a1')}
        print(f'{name:11s} AUC {auc(les, nor):.3f}  threshold {t:9.4f}: lesion called {det}/{n_les} = {det / n_les:.3f}, '
              f'normal clean {clean}/{n_nor} = {clean / max(1, n_nor):.3f} ({lo:.3f}-{hi:.3f})')
    if a.cv:
        print('leave-one-out over the split: thresholds fitted on the other images, rule "lesion iff all >= thresholds"')
        single = [(k,) for k in stats if not k.startswith('a1')]
        pairs = [('topk-64', k) for k in stats if k != 'topk-64']
        out['crossValidated'] = cross_validate(stats, has, a.sensitivity, single + pairs, box=[('topk-64',)])
    if a.json:
        json.dump(out, open(a.json, 'w'), indent=1)


if __name__ == '__main__':
    main()
