#!/usr/bin/env python3
"""An Attention U-Net trained OUTSIDE this project's recipe, to test the quantizer on a model it did not shape.

Written from the study's description (../shared/docs/network.md) without models/training/model.py: its own
module names, PyTorch 'same' padding on stride-1 convs and a Keras-style asymmetric pad before each stride-2 conv,
BatchNorm after every 3x3 conv of the conv blocks (folded into the convs by the ONNX export) and in the gates
(PyTorch's default eps 1e-5), 3 input channels (grey replicated, as the study fed its images),
plain Adam (lr 1e-3 with a cosine decay per epoch to 1e-5, no warm-up, no EMA, no weight decay), BCE + batch Dice
(not per image), horizontal flips and a gain of 0.8-1.2 as the only augmentation, batch 16, fixed epochs, seed 7;
the epoch with the best validation lesion Dice is exported (ONNX, torch 2.x exporter).

Needs PyTorch 2.x (pip, `torch` from the local index):
  python3 models/training/independent/train_torch.py --data models/training/runs/data-96 --out OUT_DIR [--epochs 30]
Reads the train and val .npy written by `aunet dataset export` (real BUSI images, the leak-free split).
"""
import argparse
import json
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class DoubleConv(nn.Sequential):
    """conv-BN-ReLU twice, the usual PyTorch U-Net block (the study's has no BatchNorm there): it trains in far
    fewer epochs; the ONNX export folds each BatchNorm into its conv, so the graph keeps the study's ops while its
    weights get the wide per-channel ranges of folded BatchNorm that a quantizer meets in models people train."""

    def __init__(self, cin, cout):
        super().__init__(nn.Conv2d(cin, cout, 3, padding='same'), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                         nn.Conv2d(cout, cout, 3, padding='same'), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class Gate(nn.Module):
    """sigmoid(psi(relu(theta(g)) + relu(phi(x)))) upsampled, times x, then BatchNorm."""

    def __init__(self, g_ch, x_ch, inter):
        super().__init__()
        self.theta = nn.Conv2d(g_ch, inter, 3, padding='same')
        self.phi = nn.Conv2d(x_ch, inter, 3, stride=2)  # padded by hand: Keras 'same' at stride 2 pads bottom/right
        self.psi = nn.Conv2d(inter, 1, 1)
        self.norm = nn.BatchNorm2d(x_ch)
        self.up = nn.Upsample(scale_factor=2, mode='nearest')

    def forward(self, g, x):
        a = torch.sigmoid(self.psi(F.relu(self.theta(g)) + F.relu(self.phi(F.pad(x, (0, 1, 0, 1))))))
        return self.norm(self.up(a) * x)


class IndependentAttentionUNet(nn.Module):
    def __init__(self, base=8, in_ch=3):
        super().__init__()
        w = [base, 2 * base, 4 * base, 8 * base, 16 * base]
        self.down = nn.ModuleList([DoubleConv(in_ch, w[0]), DoubleConv(w[0], w[1]), DoubleConv(w[1], w[2]), DoubleConv(w[2], w[3])])
        self.bottom = DoubleConv(w[3], w[4])
        self.gates = nn.ModuleList([Gate(w[4], w[3], w[3]), Gate(w[3], w[2], w[2]), Gate(w[2], w[1], w[1]), Gate(w[1], w[0], w[0])])
        self.up = nn.ModuleList([DoubleConv(w[4] + w[3], w[3]), DoubleConv(w[3] + w[2], w[2]), DoubleConv(w[2] + w[1], w[1]), DoubleConv(w[1] + w[0], w[0])])
        self.head = nn.Conv2d(w[0], 1, 1)
        self.resize = nn.Upsample(scale_factor=2, mode='nearest')

    def forward(self, x):
        skips = []
        for block in self.down:
            x = block(x)
            skips.append(x)
            x = F.max_pool2d(x, 2)
        x = self.bottom(x)
        for gate, block, skip in zip(self.gates, self.up, reversed(skips)):
            x = block(torch.cat([self.resize(x), gate(x, skip)], 1))
        return torch.sigmoid(self.head(x))


def batch_dice_loss(p, m):
    return 1 - (2 * (p * m).sum() + 1) / (p.sum() + m.sum() + 1)


def per_image_dice(p, m):
    """Dice per image at threshold 0.5, lesion images only (what aunet eval averages)."""
    out = []
    for pi, mi in zip(p, m):
        if mi.sum() > 0:
            b = (pi > 0.5).float()
            out.append(float(2 * (b * mi).sum() / (b.sum() + mi.sum())))
    return float(np.mean(out))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--epochs', type=int, default=30)
    ap.add_argument('--base', type=int, default=8)
    ap.add_argument('--seed', type=int, default=7)
    ap.add_argument('--lr', type=float, default=1e-3)
    ap.add_argument('--threads', type=int, default=1)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    np.random.seed(a.seed)
    torch.set_num_threads(a.threads)
    os.makedirs(a.out, exist_ok=True)
    load = lambda s: (torch.from_numpy(np.load(os.path.join(a.data, f'{s}_images.npy'))).permute(0, 3, 1, 2).float().div(255).expand(-1, 3, -1, -1).contiguous(),  # noqa: E731
                      torch.from_numpy(np.load(os.path.join(a.data, f'{s}_masks.npy'))).permute(0, 3, 1, 2).float())
    xt, mt = load('train')
    xv, mv = load('val')
    model = IndependentAttentionUNet(a.base, 3)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    rng = np.random.default_rng(a.seed)
    history = []
    best = (-1.0, 0, None)
    t0 = time.time()
    for ep in range(1, a.epochs + 1):
        for group in opt.param_groups:
            group['lr'] = 1e-5 + 0.5 * (a.lr - 1e-5) * (1 + np.cos(np.pi * (ep - 1) / max(1, a.epochs - 1)))
        model.train()
        order = rng.permutation(len(xt))
        total = 0.0
        for i in range(0, len(order), 16):
            idx = torch.from_numpy(order[i:i + 16])
            x, m = xt[idx].clone(), mt[idx].clone()
            flip = torch.from_numpy(rng.random(len(idx)) < 0.5)
            x[flip], m[flip] = x[flip].flip(3), m[flip].flip(3)
            x = (x * torch.from_numpy(rng.uniform(0.8, 1.2, (len(idx), 1, 1, 1))).float()).clamp(0, 1)
            p = model(x)
            loss = F.binary_cross_entropy(p, m) + batch_dice_loss(p, m)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        model.eval()
        with torch.no_grad():
            pv = torch.cat([model(xv[i:i + 32]) for i in range(0, len(xv), 32)])
        d = per_image_dice(pv, mv)
        history.append({'epoch': ep, 'lr': opt.param_groups[0]['lr'], 'loss': total / len(xt), 'valDice': d, 'seconds': time.time() - t0})
        if d > best[0]:
            best = (d, ep, {k: v.clone() for k, v in model.state_dict().items()})
        print(f'epoch {ep}/{a.epochs} loss {total / len(xt):.4f} val lesion Dice {d:.4f} (best {best[0]:.4f} @ {best[1]}; {time.time() - t0:.0f} s)', flush=True)
    model.load_state_dict(best[2])
    model.eval()
    torch.onnx.export(model, torch.zeros(1, 3, xt.shape[2], xt.shape[3]), os.path.join(a.out, 'model.onnx'),
                      input_names=['image'], output_names=['mask'], opset_version=17, dynamo=False)
    json.dump({'recipe': vars(a) | {'out': os.path.basename(a.out), 'data': os.path.basename(os.path.normpath(a.data))},
               'torch': torch.__version__, 'bestEpoch': best[1], 'bestValLesionDice': best[0], 'history': history},
              open(os.path.join(a.out, 'run.json'), 'w'), indent=1)
    print(f'wrote {a.out}/model.onnx', flush=True)


if __name__ == '__main__':
    main()
