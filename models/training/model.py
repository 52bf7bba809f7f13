"""The study's Attention U-Net in PyTorch, matching models/graph.ts op for op.

Module paths equal the graph's op names, so state_dict keys are '<op>.weight' /
'<op>.bias' (e.g. 'enc1.conv1.weight', 'ag3.psi.bias', 'ag2.bn.running_mean',
'out.conv.weight'); importers and test fixtures rely on that.
All 3x3 convs use PyTorch padding=1 (all four sides, also at stride 2: the
.aunet records these pads per conv, see FloatConv.pads).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class ConvPair(nn.Module):
    """EncoderBlock without pooling: Conv3x3+ReLU twice."""

    def __init__(self, cin, f):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, f, 3, padding=1)
        self.conv2 = nn.Conv2d(f, f, 3, padding=1)

    def forward(self, x):
        return F.relu(self.conv2(F.relu(self.conv1(x))))


class AttentionGate(nn.Module):
    """The study's gate: a = sigmoid(psi(relu(x(X)) + relu(s(skip)))); out = BN(up2(a) * skip)."""

    def __init__(self, coarse_channels, skip_channels, f):
        super().__init__()
        self.x = nn.Conv2d(coarse_channels, f, 3, padding=1)
        self.s = nn.Conv2d(skip_channels, f, 3, stride=2, padding=1)
        self.psi = nn.Conv2d(f, 1, 1)
        self.bn = nn.BatchNorm2d(skip_channels, eps=1e-3)

    def forward(self, coarse, skip):
        t = F.relu(self.x(coarse)) + F.relu(self.s(skip))
        a = torch.sigmoid(self.psi(t))
        g = F.interpolate(a, scale_factor=2, mode='nearest') * skip
        return self.bn(g), a


class Head(nn.Module):
    def __init__(self, cin):
        super().__init__()
        self.conv = nn.Conv2d(cin, 1, 1)

    def forward(self, x):
        return self.conv(x)


class AttentionUNet(nn.Module):
    """AttentionUNet(filters, in_channels): input N x C x H x W in [0, 1] (pixel / 255),
    H and W multiples of 16; forward returns the per-pixel probability N x 1 x H x W.
    forward_logits / forward_with_attention serve training and explanations."""

    def __init__(self, filters=8, in_channels=1):
        super().__init__()
        f = filters
        self.filters = filters
        self.in_channels = in_channels
        self.enc1 = ConvPair(in_channels, f)
        self.enc2 = ConvPair(f, 2 * f)
        self.enc3 = ConvPair(2 * f, 4 * f)
        self.enc4 = ConvPair(4 * f, 8 * f)
        self.enc5 = ConvPair(8 * f, 16 * f)
        # gate g works at 8F >> (g-1) filters on skip c(5-g)
        self.ag1 = AttentionGate(16 * f, 8 * f, 8 * f)
        self.dec1 = ConvPair(16 * f + 8 * f, 8 * f)
        self.ag2 = AttentionGate(8 * f, 4 * f, 4 * f)
        self.dec2 = ConvPair(8 * f + 4 * f, 4 * f)
        self.ag3 = AttentionGate(4 * f, 2 * f, 2 * f)
        self.dec3 = ConvPair(4 * f + 2 * f, 2 * f)
        self.ag4 = AttentionGate(2 * f, f, f)
        self.dec4 = ConvPair(2 * f + f, f)
        self.out = Head(f)

    def forward_with_attention(self, x):
        c1 = self.enc1(x)
        c2 = self.enc2(F.max_pool2d(c1, 2))
        c3 = self.enc3(F.max_pool2d(c2, 2))
        c4 = self.enc4(F.max_pool2d(c3, 2))
        d = self.enc5(F.max_pool2d(c4, 2))
        att = []
        for ag, dec, skip in ((self.ag1, self.dec1, c4), (self.ag2, self.dec2, c3),
                              (self.ag3, self.dec3, c2), (self.ag4, self.dec4, c1)):
            gated, a = ag(d, skip)
            att.append(a)
            d = dec(torch.cat([F.interpolate(d, scale_factor=2, mode='nearest'), gated], dim=1))
        return self.out(d), att

    def forward_logits(self, x):
        return self.forward_with_attention(x)[0]

    def forward(self, x):
        return torch.sigmoid(self.forward_logits(x))


def count_macs(filters, size, in_channels=1):
    """Conv multiply-accumulates per frame (same count as models/graph.ts graphMacs)."""
    macs = 0
    hooks = []
    model = AttentionUNet(filters, in_channels)

    def hook(m, _inp, out):
        nonlocal macs
        macs += out.numel() * m.in_channels * m.kernel_size[0] * m.kernel_size[1]
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(hook))
    with torch.no_grad():
        model(torch.zeros(1, in_channels, size, size))
    return macs
