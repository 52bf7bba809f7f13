#!/usr/bin/python3
"""Pick the shipped weights from a training run and meet the emptyRate bar.

The engines' mask is fixed at probability > 0.5. Lowering the final conv's
bias by d is the same as raising that threshold to sigmoid(d): fewer false
positives on normal images, slightly lower sensitivity. For each candidate
(the per-epoch EMA snapshots with the highest validation Dice and the last
few epochs' snapshots) and each shift on a grid, this computes the validation lesion
Dice (per image, as eval does) and the normal-image emptyRate (predicted area
< 0.5%), keeps the combinations with emptyRate >= --target-empty, and picks the
highest Dice. The chosen weights (bias folded in) are saved as final.pt and
exported as final.onnx; calibration.json records every candidate.
NOTE: the shift and the epoch are chosen on the validation split (like early
stopping); docs/models.md says so next to the metrics.

/usr/bin/python3 models/training/calibrate.py --run RUN_DIR --data EXPORT_DIR [--target-empty 0.65]
"""
import argparse
import glob
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import AttentionUNet  # noqa: E402
from train import load, export_onnx  # noqa: E402

SHIFTS = [0.0, -0.25, -0.5, -0.75, -1.0, -1.25, -1.5, -1.75, -2.0, -2.25, -2.5, -2.75, -3.0, -3.5, -4.0]


@torch.no_grad()
def logits_of(ck, x):
    model = AttentionUNet(ck['filters'], ck['in_channels'])
    model.load_state_dict(ck['model'])
    model.eval()
    return torch.cat([model.forward_logits(x[i:i + 25].float() / 255) for i in range(0, x.shape[0], 25)])


def score(logits, m, shift):
    pred = (logits + shift > 0).float()
    dices, empties = [], []
    for j in range(m.shape[0]):
        gt = m[j].float()
        if gt.sum() > 0:
            dices.append(2 * (gt * pred[j]).sum().item() / (gt.sum().item() + pred[j].sum().item()))
        else:
            empties.append(1.0 if pred[j].mean().item() < 0.005 else 0.0)
    return float(np.mean(dices)), float(np.mean(empties)) if empties else 1.0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--run', required=True)
    p.add_argument('--data', required=True)
    p.add_argument('--target-empty', type=float, default=0.65, help='required emptyRate (the bar is 0.6; margin for resizing)')
    p.add_argument('--candidates', type=int, default=12, help='snapshots with the highest val Dice to consider')
    p.add_argument('--last', type=int, default=8, help='also consider the last N snapshots')
    p.add_argument('--best-only', action='store_true',
                   help="only the run's best.pt (a run whose best.pt train.py chose by --select decision: the epoch stays its choice)")
    p.add_argument('--threads', type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    xv, mv = load(a.data, 'val')
    run = json.load(open(os.path.join(a.run, 'run.json')))
    # the best-Dice snapshots and the last few (lowest learning rate), then best.pt
    ranked = sorted(run['history'], key=lambda h: -h['valDice'])
    epochs = [] if a.best_only else list(dict.fromkeys([h['epoch'] for h in ranked[:a.candidates]] + [h['epoch'] for h in run['history'][-a.last:]]))
    files = [f for f in (os.path.join(a.run, 'snapshots', f'ep{e:03d}.pt') for e in epochs) if os.path.exists(f)]
    if not any(f.endswith(f"ep{run['best']['epoch']:03d}.pt") for f in files):
        files.append(os.path.join(a.run, 'best.pt'))
    table = []
    for f in files:
        ck = torch.load(f)
        lg = logits_of(ck, xv)
        for s in SHIFTS:
            d, e = score(lg, mv, s)
            table.append({'file': os.path.relpath(f, a.run), 'epoch': ck['epoch'], 'shift': s, 'valDice': d, 'valEmptyRate': e})
            print(f"{os.path.basename(f):12s} epoch {ck['epoch']:3d} shift {s:+.2f}: Dice {d:.4f} emptyRate {e:.3f}", flush=True)
    ok = [t for t in table if t['valEmptyRate'] >= a.target_empty]
    pool = ok if ok else table
    # highest Dice; on ties the smaller shift
    choice = max(pool, key=lambda t: (round(t['valDice'], 4), t['shift']))
    if not ok:
        print(f'WARNING: no candidate reaches emptyRate {a.target_empty}; picking the best Dice', flush=True)
    ck = torch.load(os.path.join(a.run, choice['file']))
    ck['model']['out.conv.bias'] = ck['model']['out.conv.bias'] + choice['shift']
    ck['calibration'] = choice
    torch.save(ck, os.path.join(a.run, 'final.pt'))
    model = AttentionUNet(ck['filters'], ck['in_channels'])
    model.load_state_dict(ck['model'])
    export_onnx(model, os.path.join(a.run, 'final.onnx'), ck['in_channels'], ck['size'])
    json.dump({'targetEmptyRate': a.target_empty, 'choice': choice, 'candidates': table},
              open(os.path.join(a.run, 'calibration.json'), 'w'), indent=1)
    print(f"chose {choice['file']} (epoch {choice['epoch']}) with bias shift {choice['shift']}: val Dice {choice['valDice']:.4f}, "
          f"emptyRate {choice['valEmptyRate']:.3f}; wrote {a.run}/final.onnx", flush=True)


if __name__ == '__main__':
    main()
