#!/usr/bin/python3
"""Train the study's Attention U-Net on a dataset exported by `aunet dataset export`.

Run with Debian's PyTorch: /usr/bin/python3 models/training/train.py --data DIR --out RUN_DIR [...]
Reads only the exported .npy (so training sees exactly the box's preprocessing).
Recipe: BCE + per-image soft Dice + an image-level presence term (the mean of the
k highest logits against "has a lesion": the statistic the box's lesion-present
decision reads), Adam with warm-up + cosine decay, augmentation
(horizontal flip, small affine, gain/gamma and speckle jitter, 8-bit rounding),
an exponential moving average (EMA) of the weights that is what gets validated
and shipped (it damps BUSI's large epoch-to-epoch swings), early stopping on
validation lesion Dice (per image, threshold 0.5, as `aunet eval` computes it),
fixed seed, a checkpoint every epoch (resume with --resume), ONNX export of the
best model (opset 13, eval mode) and run.json with the per-epoch history.
"""
import argparse
import copy
import hashlib
import json
import math
import os
import sys
import time

# On a shared, oversubscribed CPU, spinning OpenMP workers burn their time slices waiting
# for each other (measured here: several times slower per epoch); sleep instead.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import AttentionUNet, count_macs  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data', required=True, help='folder written by aunet dataset export')
    p.add_argument('--out', required=True, help='run folder (checkpoints, log, run.json, best.onnx)')
    p.add_argument('--filters', type=int, default=16)
    p.add_argument('--epochs', type=int, default=120)
    p.add_argument('--batch', type=int, default=8)
    p.add_argument('--lr', type=float, default=1e-3)
    p.add_argument('--min-lr', type=float, default=1e-5)
    p.add_argument('--warmup', type=int, default=2, help='warm-up epochs')
    p.add_argument('--weight-decay', type=float, default=1e-4)
    p.add_argument('--ema', type=float, default=0.995, help='EMA decay per step (0 = off)')
    p.add_argument('--patience', type=int, default=40, help='epochs without a better val Dice before stopping')
    p.add_argument('--max-minutes', type=float, default=0, help='wall-time budget: the cosine schedule anneals by then at the latest, training stops there (0 = none)')
    p.add_argument('--seed', type=int, default=1234)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--normal-weight', type=float, default=1.0, help='BCE weight of normal (empty-mask) images')
    p.add_argument('--normal-weight-from', type=int, default=1, help='first epoch that uses --normal-weight')
    p.add_argument('--presence-weight', type=float, default=0.0, help='weight of the image-level presence BCE on the top-k mean logit (0 = off)')
    p.add_argument('--presence-k', type=int, default=0, help="k of the top-k mean logit in the presence term (default: the box's share of the frame, 64 at 128x128, 100 at 160x160)")
    p.add_argument('--normal-repeat', type=int, default=1, help='each normal image appears this many times per epoch (hard negatives)')
    p.add_argument('--select', choices=('dice', 'decision'), default='dice',
                   help='best.pt by val lesion Dice, or by the lesion-present decision (box rule: called lesion + shown clean on val, '
                   'then presence AUC, then Dice) among epochs whose val Dice is at least --min-dice')
    p.add_argument('--min-dice', type=float, default=-1.0, help='--select decision: val Dice floor (-1 = the --init checkpoint\'s own)')
    p.add_argument('--sensitivity', type=float, default=0.97, help='--select decision: share of val lesion images the box rule keeps called')
    p.add_argument('--resume', action='store_true', help='continue from OUT/last.pt')
    p.add_argument('--device', default='cpu', help="torch device ('cuda' on a GPU box: models/training/sweep.py)")
    p.add_argument('--snapshots', type=int, default=1, help='1: keep every epoch\'s EMA weights for calibrate.py; 0: best.pt and last.pt only')
    p.add_argument('--onnx', type=int, default=1, help='1: export best.onnx at the end; 0: leave it to calibrate.py '
                   '(a GPU box\'s newer torch exports another graph; the box is built with the recipe\'s torch)')
    p.add_argument('--teacher-filters', type=int, default=0,
                   help='online distillation: a network of this F trained beside this one on the same batches; its EMA\'s '
                   'probabilities are a soft target for this one (0 = off; the teacher is never exported)')
    p.add_argument('--distill-weight', type=float, default=1.0, help='weight of the soft-target BCE, ramped up over the first --distill-ramp of training')
    p.add_argument('--distill-ramp', type=float, default=0.2, help='share of training over which the distillation weight rises from 0')
    p.add_argument('--folds', type=int, default=0,
                   help='k-fold cross-validation over the export\'s train + val: N folds (0 = the export\'s own train / val)')
    p.add_argument('--fold', type=int, default=0, help='--folds: the fold validated on (0 .. N-1); the others are trained on')
    p.add_argument('--init', default='', help='warm start: weights of a checkpoint (best.pt, a snapshot or last.pt: its EMA) '
                   'for a new cosine cycle with a fresh optimizer (SGDR-style restart); ignored when resuming')
    return p.parse_args()


def load(data, split):
    x = np.load(os.path.join(data, f'{split}_images.npy'))  # N H W C uint8
    m = np.load(os.path.join(data, f'{split}_masks.npy'))  # N H W 1, 0/1
    x = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()
    m = torch.from_numpy(m).permute(0, 3, 1, 2).contiguous()
    return x, m


def augment(x, m, g):
    """x float N C H W in [0,1], m float N 1 H W; g a torch.Generator. Returns augmented copies."""
    n = x.shape[0]
    r = lambda *s: torch.rand(*s, generator=g)  # noqa: E731
    # horizontal flip only: ultrasound has a fixed top (skin) to bottom (depth) direction
    flip = r(n) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    m = torch.where(flip[:, None, None, None], m.flip(3), m)
    # small affine: rotation +-10 deg, scale 0.85..1.15, shift +-8%, applied to 80% of images
    on = (r(n) < 0.8).float()
    ang = (r(n) * 2 - 1) * math.radians(10) * on
    sc = 1 + (r(n) * 2 - 1) * 0.15 * on
    tx = (r(n) * 2 - 1) * 0.16 * on
    ty = (r(n) * 2 - 1) * 0.16 * on
    cos, sin = torch.cos(ang) / sc, torch.sin(ang) / sc
    theta = torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode='bilinear', padding_mode='zeros', align_corners=False)
    m = (F.grid_sample(m, grid, mode='bilinear', padding_mode='zeros', align_corners=False) >= 0.5).float()
    # gain 0.75..1.25 and gamma 0.8..1.25 (scanner gain / TGC differences)
    gain = 0.75 + 0.5 * r(n, 1, 1, 1)
    gamma = torch.exp((r(n, 1, 1, 1) * 2 - 1) * math.log(1.25))
    x = x.clamp(0, 1).pow(gamma) * gain
    # multiplicative speckle, sigma 0..0.15, on 70% of images
    sigma = 0.15 * r(n, 1, 1, 1) * (r(n, 1, 1, 1) < 0.7).float()
    x = x * (1 + sigma * torch.randn(x.shape, generator=g))
    # the box sees 8-bit pixels
    x = torch.round(x.clamp(0, 1) * 255) / 255
    return x, m


def topk_logit(logits, k):
    """Mean of the k highest logits per image: high when the network is sure of some lesion pixels."""
    flat = logits.flatten(1)
    return flat.topk(min(k, flat.shape[1]), dim=1).values.mean(1)


def loss_fn(logits, m, normal_weight=1.0, presence_weight=0.0, presence_k=64):
    lesion = m.sum((1, 2, 3)) > 0
    # normal (empty-mask) images may weigh more in the BCE: false-positive blobs on them decide emptyRate
    w = torch.where(lesion, torch.ones_like(lesion, dtype=logits.dtype), torch.full_like(lesion, normal_weight, dtype=logits.dtype))
    bce = (F.binary_cross_entropy_with_logits(logits, m, reduction='none').mean((1, 2, 3)) * w).sum() / w.sum()
    p = torch.sigmoid(logits)
    inter = (p * m).sum((1, 2, 3))
    denom = p.sum((1, 2, 3)) + m.sum((1, 2, 3))
    dice = (2 * inter + 1) / (denom + 1)
    # per-image soft Dice on lesion images (as eval averages Dice per image); BCE alone teaches empty outputs
    dl = (1 - dice[lesion]).mean() if lesion.any() else logits.sum() * 0
    if presence_weight > 0:
        # image level: a normal image should have no confident pixel at all, a lesion image some
        pres = F.binary_cross_entropy_with_logits(topk_logit(logits, presence_k), lesion.to(logits.dtype))
        return bce + dl + presence_weight * pres
    return bce + dl


@torch.no_grad()
def evaluate(model, x, m, batch=25, sensitivity=0.97):
    model.eval()
    dev = next(model.parameters()).device
    tops, ptops, per_image = [], [], []
    bce = 0.0
    # the box's k is a fraction of the frame (PRESENCE_FRACTION in models/lesion-decision.ts): 64 at 128x128, 100 at 160x160
    k = box_k(x.shape[2] * x.shape[3])
    for i in range(0, x.shape[0], batch):
        xb = x[i:i + batch].to(dev).float() / 255
        mb = m[i:i + batch].to(dev).float()
        logits = model.forward_logits(xb)
        tops += topk_logit(logits, k).tolist()
        # the box's statistic: mean of the k highest 8-bit probabilities (models/lesion-decision.ts)
        ptops += (torch.round(torch.sigmoid(logits) * 255) / 255).flatten(1).topk(k, dim=1).values.mean(1).tolist()
        bce += F.binary_cross_entropy_with_logits(logits, mb, reduction='sum').item()
        pred = (logits > 0).float()  # sigmoid > 0.5
        for j in range(xb.shape[0]):
            gt, pr = mb[j], pred[j]
            if gt.sum() > 0:
                per_image.append({'lesion': True, 'dice': 2 * (gt * pr).sum().item() / (gt.sum().item() + pr.sum().item())})
            else:
                per_image.append({'lesion': False, 'area': pr.mean().item()})
    has = [r['lesion'] for r in per_image]
    dices = [r['dice'] for r in per_image if r['lesion']]
    empties = [1.0 if r['area'] < 0.005 else 0.0 for r in per_image if not r['lesion']]
    return {
        'dice': float(np.mean(dices)) if dices else 0.0,
        'emptyRate': float(np.mean(empties)) if empties else 1.0,
        'bce': bce / m.numel(),
        'presenceAuc': auc([t for t, h in zip(tops, has) if h], [t for t, h in zip(tops, has) if not h]),
        **box_rule([t for t, h in zip(ptops, has) if h], [t for t, h in zip(ptops, has) if not h], sensitivity),
        # per image, in x's order: the box's score (top-k mean of 8-bit probabilities) and Dice or predicted area
        'images': [{**r, 'score': t} for r, t in zip(per_image, ptops)],
    }


def box_k(pixels, k128=64):
    """k of a top-k mean taken as the box takes its own (models/lesion-decision.ts): the share of the frame that
    `k128` is of a 128x128 one, max(1, round(k128 / 128^2 * pixels)) -- 64 at 128x128, 100 at 160x160."""
    return max(1, round(k128 / (128 * 128) * pixels))


def box_rule(pos, neg, sensitivity, floor=0.5):
    """The box's lesion-present rule as `aunet decision calibrate` sets it: the highest threshold (>= floor; the box's
    0.5, so that a frame called lesion has a mask to outline) that keeps >= `sensitivity` of the lesion images called;
    returns how many lesion images it calls and how many normal images it leaves clean (decision_study.py uses it for
    every statistic, with that statistic's floor)."""
    if not pos:
        return {'called': 0, 'clean': len(neg), 'threshold': floor}
    keep = math.ceil(sensitivity * len(pos) - 1e-9)
    t = max(floor, sorted(pos, reverse=True)[keep - 1])
    return {'called': sum(p >= t for p in pos), 'clean': sum(n < t for n in neg), 'threshold': t}


def rank(a, state, v):
    """Order of checkpoints for best.pt. 'dice': val lesion Dice. 'decision': epochs at or above the Dice floor first,
    by the box rule's called + clean val images, then presence AUC, then Dice (below the floor: Dice alone)."""
    if a.select == 'dice':
        return (v['valDice'],)
    floor = a.min_dice if a.min_dice >= 0 else (state.get('init') or {}).get('valDice', 0.0)
    if v['valDice'] < floor:
        return (0, v['valDice'], 0.0, 0.0)
    # a run resumed from before these fields existed ranks its old best by Dice alone
    return (1, v.get('valCalled', 0) + v.get('valClean', 0), v.get('valPresenceAuc', 0.0), v['valDice'])


def auc(pos, neg):
    """Area under the ROC curve: P(a lesion image's score > a normal image's), ties count half."""
    if not pos or not neg:
        return float('nan')
    return float(np.mean([(p > n) + 0.5 * (p == n) for p in pos for n in neg]))


def progress(step, steps_per_epoch, a, elapsed):
    """Fraction of training done: by steps, or by wall time when --max-minutes runs out first
    (the CPU is shared, so epochs may be slower than planned; the schedule still anneals on time)."""
    total = a.epochs * steps_per_epoch
    warm = a.warmup * steps_per_epoch
    t = (step - warm) / max(1, total - warm)
    if a.max_minutes:
        t = max(t, elapsed / (a.max_minutes * 60))
    return t


def lr_at(step, steps_per_epoch, a, elapsed=0.0):
    warm = a.warmup * steps_per_epoch
    if step < warm:
        return a.lr * (step + 1) / warm
    t = progress(step, steps_per_epoch, a, elapsed)
    return a.min_lr + 0.5 * (a.lr - a.min_lr) * (1 + math.cos(math.pi * min(1.0, t)))


def init_weights(model):
    # He init keeps activations alive through the BatchNorm-free conv stack
    for mod in model.modules():
        if isinstance(mod, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(mod.weight, nonlinearity='relu')
            torch.nn.init.zeros_(mod.bias)


def export_onnx(model, path, channels, size):
    model.eval()
    dummy = torch.zeros(1, channels, size, size)
    torch.onnx.export(model, dummy, path, opset_version=13, input_names=['input'], output_names=['prob'],
                      do_constant_folding=True)


def main():
    a = parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    np.random.seed(a.seed)
    os.makedirs(a.out, exist_ok=True)
    index = json.load(open(os.path.join(a.data, 'index.json')))
    xt, mt = load(a.data, 'train')
    xv, mv = load(a.data, 'val')
    val_names = [e['name'] for e in index['splits']['val']['entries']]
    cv = None
    if a.folds:
        xt, mt, xv, mv, val_names, cv = fold_split(a, index, xt, mt, xv, mv)
    channels, size = xt.shape[1], xt.shape[2]
    a.presence_k = a.presence_k or box_k(size * xt.shape[3])
    dev = torch.device(a.device)
    if dev.type == 'cuda':
        torch.backends.cudnn.benchmark = True  # fixed shapes: let cuDNN pick its fastest convolutions once
    model = AttentionUNet(a.filters, channels)
    init_weights(model)
    if a.init:
        ck0 = torch.load(a.init)
        if (ck0.get('filters', a.filters), ck0.get('in_channels', channels)) != (a.filters, channels):
            sys.exit(f"--init {a.init}: F={ck0.get('filters')} with {ck0.get('in_channels')} channel(s), this run F={a.filters} with {channels}")
        # the previous cycle's EMA is its best estimate of the weights; a restart from it keeps what it learnt
        model.load_state_dict(ck0['ema'] if 'ema' in ck0 else ck0['model'])
    model.to(dev)
    ema = copy.deepcopy(model) if a.ema > 0 else model
    # online distillation: the teacher learns the task beside the student; its EMA (steadier than its raw weights)
    # gives the student per-pixel soft targets, so a network too small to find them alone is shown them
    teacher = None
    if a.teacher_filters:
        teacher = AttentionUNet(a.teacher_filters, channels)
        init_weights(teacher)
        teacher.to(dev)
        teacher_ema = copy.deepcopy(teacher)
    params = list(model.parameters()) + (list(teacher.parameters()) if teacher else [])
    # the weight averages kept up after each step: the student's (unless --ema 0) and the teacher's
    averaged = ([(ema, model)] if ema is not model else []) + ([(teacher_ema, teacher)] if teacher else [])
    opt = torch.optim.AdamW(params, lr=a.lr, weight_decay=a.weight_decay)
    g = torch.Generator().manual_seed(a.seed)
    # the epoch's sample pool: every image once, normal images --normal-repeat times (hard negatives for the decision)
    normal = (mt.flatten(1).amax(1) == 0).nonzero().flatten()
    pool = torch.cat([torch.arange(xt.shape[0])] + [normal] * (a.normal_repeat - 1))
    steps_per_epoch = math.ceil(pool.numel() / a.batch)
    state = {'epoch': 0, 'step': 0, 'history': [], 'best': None, 'since_best': 0, 'seconds': 0.0}
    last = os.path.join(a.out, 'last.pt')
    if a.resume and os.path.exists(last):
        ck = torch.load(last, map_location=dev)
        model.load_state_dict(ck['model'])
        ema.load_state_dict(ck['ema'])
        if teacher:
            teacher.load_state_dict(ck['teacher'])
            teacher_ema.load_state_dict(ck['teacher_ema'])
        opt.load_state_dict(ck['opt'])
        g.set_state(ck['gen'])
        torch.set_rng_state(ck['torch_rng'])
        state = ck['state']
        if state['best'] is not None and 'ok' in state['best']:
            state['best'] = None  # a run started with the older emptyRate-gated selection: select afresh
            state['since_best'] = 0
        print(f"resumed at epoch {state['epoch']}", flush=True)
    macs = count_macs(a.filters, size, channels)
    print(f'data {a.data}: train {xt.shape[0]}, val {xv.shape[0]}, {size}x{size}x{channels}; '
          f'F={a.filters}, {macs / 1e9:.3f} GMAC/frame; {a.epochs} epochs, batch {a.batch}', flush=True)
    if a.init and state['epoch'] == 0:
        v0 = evaluate(ema, xv, mv, sensitivity=a.sensitivity)
        state['init'] = {'checkpoint': os.path.basename(os.path.dirname(os.path.abspath(a.init))) + '/' + os.path.basename(a.init),
                         'valDice': v0['dice'], 'valEmptyRate': v0['emptyRate'], 'valPresenceAuc': v0['presenceAuc'],
                         'valCalled': v0['called'], 'valClean': v0['clean']}
        print(f"warm start from {state['init']['checkpoint']}: val Dice {v0['dice']:.4f} emptyRate {v0['emptyRate']:.3f} "
              f"auc {v0['presenceAuc']:.3f} called {v0['called']} clean {v0['clean']}", flush=True)
    t_start = time.time() - state['seconds']
    while state['epoch'] < a.epochs:
        ep = state['epoch'] + 1
        t0 = time.time()
        model.train()
        if teacher:
            teacher.train()
        perm = pool[torch.randperm(pool.numel(), generator=g)]
        total = 0.0
        for b in range(steps_per_epoch):
            idx = perm[b * a.batch:(b + 1) * a.batch]
            xb, mb = augment(xt[idx].float() / 255, mt[idx].float(), g)
            xb, mb = xb.to(dev), mb.to(dev)
            for group in opt.param_groups:
                group['lr'] = lr_at(state['step'], steps_per_epoch, a, time.time() - t_start)
            opt.zero_grad()
            nw = a.normal_weight if ep >= a.normal_weight_from else 1.0
            logits = model.forward_logits(xb)
            loss = loss_fn(logits, mb, nw, a.presence_weight, a.presence_k)
            if teacher:
                loss = loss + loss_fn(teacher.forward_logits(xb), mb, nw, a.presence_weight, a.presence_k)
                with torch.no_grad():
                    teacher_ema.eval()
                    soft = torch.sigmoid(teacher_ema.forward_logits(xb))
                ramp = min(1.0, max(0.0, progress(state['step'], steps_per_epoch, a, time.time() - t_start)) / a.distill_ramp)
                loss = loss + a.distill_weight * ramp * F.binary_cross_entropy_with_logits(logits, soft)
            loss.backward()
            opt.step()
            state['step'] += 1
            d = min(a.ema, (1 + state['step']) / (10 + state['step']))
            for e, net in averaged:
                update_ema(e, net, d)
            total += loss.item() * idx.numel()
        v = evaluate(ema, xv, mv, sensitivity=a.sensitivity)
        if teacher:
            vt = evaluate(teacher_ema, xv, mv, sensitivity=a.sensitivity)
            print(f"  teacher F={a.teacher_filters}: val Dice {vt['dice']:.4f} auc {vt['presenceAuc']:.3f} called {vt['called']} clean {vt['clean']}", flush=True)
        rec = {'epoch': ep, 'lr': opt.param_groups[0]['lr'], 'trainLoss': total / pool.numel(),
               'valDice': v['dice'], 'valEmptyRate': v['emptyRate'], 'valBce': v['bce'], 'valPresenceAuc': v['presenceAuc'],
               'valCalled': v['called'], 'valClean': v['clean'], 'seconds': time.time() - t0}
        state['history'].append(rec)
        state['epoch'] = ep
        state['seconds'] = time.time() - t_start
        # early stopping / best model by --select (default: val lesion Dice alone); the emptyRate bar on normal
        # images is met afterwards by calibrate.py (output bias) over the per-epoch EMA snapshots
        best = state['best']
        cand = {'epoch': ep, 'valDice': v['dice'], 'valEmptyRate': v['emptyRate'], 'valPresenceAuc': v['presenceAuc'],
                'valCalled': v['called'], 'valClean': v['clean']}
        if best is None or rank(a, state, cand) > rank(a, state, best):
            state['best'] = cand
            state['since_best'] = 0
            # written whole, then renamed: a run stopped at a sweep's deadline leaves the previous best.pt, never half of one
            torch.save({'model': cpu_state(ema), 'filters': a.filters, 'in_channels': channels, 'size': size, 'epoch': ep},
                       os.path.join(a.out, 'best.pt.tmp'))
            os.replace(os.path.join(a.out, 'best.pt.tmp'), os.path.join(a.out, 'best.pt'))
        else:
            state['since_best'] += 1
        if a.folds or state['best']['epoch'] == ep:
            # the validated images' own figures: at the best epoch, or, in a fold, at the latest (the schedule's end
            # once it has annealed): an epoch chosen on a fold's images would flatter the figures pooled from them
            with open(os.path.join(a.out, 'val-images.json.tmp'), 'w') as f:
                json.dump({'epoch': ep, 'images': [{'name': n, **r} for n, r in zip(val_names, v['images'])]}, f)
            os.replace(os.path.join(a.out, 'val-images.json.tmp'), os.path.join(a.out, 'val-images.json'))
        if a.snapshots:
            os.makedirs(os.path.join(a.out, 'snapshots'), exist_ok=True)
            torch.save({'model': cpu_state(ema), 'filters': a.filters, 'in_channels': channels, 'size': size, 'epoch': ep},
                       os.path.join(a.out, 'snapshots', f'ep{ep:03d}.pt'))
        print(f"epoch {ep:3d}/{a.epochs} loss {rec['trainLoss']:.4f} lr {rec['lr']:.2e} val Dice {v['dice']:.4f} "
              f"emptyRate {v['emptyRate']:.3f} bce {v['bce']:.4f} auc {v['presenceAuc']:.3f} called {v['called']} clean {v['clean']}"
              f" | best {state['best']['valDice']:.4f} @ {state['best']['epoch']}"
              f" | {rec['seconds']:.0f}s, total {state['seconds'] / 60:.1f} min", flush=True)
        torch.save({'model': model.state_dict(), 'ema': ema.state_dict(), 'opt': opt.state_dict(), 'gen': g.get_state(),
                    'torch_rng': torch.get_rng_state(), 'state': state, 'args': vars(a),
                    **({'teacher': teacher.state_dict(), 'teacher_ema': teacher_ema.state_dict()} if teacher else {})}, last + '.tmp')
        os.replace(last + '.tmp', last)
        write_summary(a, index, state, macs, size, channels, final=False, cv=cv)
        if state['since_best'] >= a.patience:
            print(f"early stop: no better val {a.select} for {a.patience} epochs", flush=True)
            break
        if a.max_minutes and state['seconds'] >= a.max_minutes * 60 - 0.5 * rec['seconds']:
            print(f'stopping: wall-time limit of {a.max_minutes} min reached', flush=True)
            break
    finish(a, index, state, macs, size, channels, cv)


def fold_split(a, index, xt, mt, xv, mv):
    """Train + val of the export in --folds folds, twins together: every group of near-duplicates of the split file
    (models/datasets/, the 'group' of each image that has a twin) goes whole into one fold; per class, the groups in order of the SHA-256
    of their first member's name are dealt to the folds in turn (stratified, and the same folds on every machine).
    Returns the training arrays (the other folds), fold --fold's arrays and names, and what run.json records."""
    if not 0 <= a.fold < a.folds:
        sys.exit(f'--fold {a.fold}: outside 0 .. {a.folds - 1}')
    split_file = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'datasets', index['split']['file'])
    try:
        images = json.load(open(split_file))['images']
    except (OSError, ValueError, KeyError) as e:
        sys.exit(f"--folds: the export's split file {index['split']['file']} (models/datasets/) is not readable: {e}")
    names = [e['name'] for s in ('train', 'val') for e in index['splits'][s]['entries']]
    x = torch.cat([xt, xv])
    m = torch.cat([mt, mv])
    missing = [n for n in names if n not in images]
    if missing:
        sys.exit(f"--folds: {len(missing)} exported image(s) not in {index['split']['file']}, e.g. {missing[0]}")
    groups = {}
    for i, n in enumerate(names):
        # an image with no twin has no group in the split file: a group of its own
        groups.setdefault((images[n]['cls'], images[n].get('group', n)), []).append(i)
    fold_of = {}
    for cls in sorted({c for c, _ in groups}):
        ordered = sorted((g for g in groups if g[0] == cls),
                         key=lambda g: hashlib.sha256(min(names[i] for i in groups[g]).encode()).hexdigest())
        for k, g in enumerate(ordered):
            for i in groups[g]:
                fold_of[i] = k % a.folds
    val = [i for i in range(len(names)) if fold_of[i] == a.fold]
    train = [i for i in range(len(names)) if fold_of[i] != a.fold]
    cv = {'folds': a.folds, 'fold': a.fold, 'train': len(train), 'val': len(val), 'groups': len(groups)}
    print(f"fold {a.fold} of {a.folds} over train + val ({len(names)} images in {len(groups)} groups, twins together): "
          f"train {len(train)}, validate {len(val)}", flush=True)
    return x[train], m[train], x[val], m[val], [names[i] for i in val], cv


def update_ema(ema, model, d):
    with torch.no_grad():
        for pe, pm in zip(ema.parameters(), model.parameters()):
            pe.mul_(d).add_(pm, alpha=1 - d)
        for be, bm in zip(ema.buffers(), model.buffers()):
            be.copy_(bm)


def cpu_state(model):
    """Weights as CPU tensors: a checkpoint written on a GPU box loads on the CPU machine that quantizes it."""
    return {k: v.detach().cpu() for k, v in model.state_dict().items()}


def finish(a, index, state, macs, size, channels, cv=None):
    if a.onnx:
        ck = torch.load(os.path.join(a.out, 'best.pt'))
        model = AttentionUNet(ck['filters'], ck['in_channels'])
        model.load_state_dict(ck['model'])
        export_onnx(model, os.path.join(a.out, 'best.onnx'), channels, size)
    write_summary(a, index, state, macs, size, channels, final=True, cv=cv)
    print(f"best val Dice {state['best']['valDice']:.4f} at epoch {state['best']['epoch']}; wrote {a.out}/{'best.onnx and ' if a.onnx else ''}run.json", flush=True)


def write_summary(a, index, state, macs, size, channels, final, cv=None):
    summary = {
        'final': final,
        # provenance names no path of the training machine: the export folder's and dataset's names only
        'data': {'export': os.path.basename(os.path.normpath(a.data)), 'dataset': index['dataset'], 'preprocessing': index['preprocessing'],
                 'size': size, 'channels': channels},
        'split': {**index['split'], **{s: len(index['splits'][s]['entries']) for s in ('train', 'val', 'test')}},
        'model': {'arch': 'AttentionUNet', 'filters': a.filters, 'inChannels': channels, 'macs': macs},
        'recipe': {k: v for k, v in vars(a).items() if k not in ('data', 'out', 'resume', 'init', 'device', 'snapshots', 'onnx')},
        'device': torch.cuda.get_device_name(0) if a.device.startswith('cuda') else 'cpu',
        'cv': cv,
        'init': state.get('init'),
        'epochs': state['epoch'],
        'best': state['best'],
        'minutes': state['seconds'] / 60,
        'torch': torch.__version__,
        'history': state['history'],
    }
    with open(os.path.join(a.out, 'run.json.tmp'), 'w') as f:
        json.dump(summary, f, indent=1)
    os.replace(os.path.join(a.out, 'run.json.tmp'), os.path.join(a.out, 'run.json'))


if __name__ == '__main__':
    main()
