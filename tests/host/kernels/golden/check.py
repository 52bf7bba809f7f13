#!/usr/bin/python3
"""Independent cross-check of the golden vectors in this folder: recomputes every
expected output with Python integers (exact, arbitrary precision) from the rule in
docs/quantization.md. Run: /usr/bin/python3 tests/host/kernels/golden/check.py"""
import glob, json, os, sys

def rq(acc, M, shift):
    t = 31 - shift
    return (acc * M + (1 << (t - 1))) >> t  # Python >> is an arithmetic (floor) shift

def clamp(v, lo, hi):
    return max(lo, min(hi, v))

def conv3x3(g):
    out = []
    for y in range(g['outH']):
        for x in range(g['outW']):
            for o in range(g['cout']):
                acc = g['bias'][o]
                for ky in range(3):
                    for kx in range(3):
                        iy = y * g['stride'] + ky - g['pads'][0]
                        ix = x * g['stride'] + kx - g['pads'][1]
                        if 0 <= iy < g['inH'] and 0 <= ix < g['inW']:
                            for c in range(g['cin']):
                                acc += (g['input'][(iy * g['inW'] + ix) * g['cin'] + c] - g['inZp']) * g['weights'][((o * 3 + ky) * 3 + kx) * g['cin'] + c]
                out.append(clamp(rq(acc, g['multiplier'][o], g['shift'][o]) + g['outZp'], g['actMin'], g['actMax']))
    return out

def add(g):
    out = []
    for a, b in zip(g['a'], g['b']):
        sa = rq((a - g['aZp']) << g['leftShift'], g['inputA']['multiplier'], g['inputA']['shift'])
        sb = rq((b - g['bZp']) << g['leftShift'], g['inputB']['multiplier'], g['inputB']['shift'])
        out.append(clamp(rq(sa + sb, g['output']['multiplier'], g['output']['shift']) + g['outZp'], g['actMin'], g['actMax']))
    return out

def gate_mul(g):
    w, h, c = g['w'], g['h'], g['c']
    aw = (w + 1) // 2
    out = []
    for y in range(h):
        for x in range(w):
            for ch in range(c):
                gv = g['gate'][(y // 2) * aw + x // 2] + 128
                out.append(clamp(rq(gv * (g['skip'][(y * w + x) * c + ch] - g['skipZp']), g['multiplier'], g['shift']) + g['outZp'], g['actMin'], g['actMax']))
    return out

def copy_box(g):
    m = list(g['memory'])
    src, dst, n1, s1, d1, n2, s2, d2, n = g['box']
    for i in range(n1):
        for j in range(n2):
            s, d = src + i * s1 + j * s2, dst + i * d1 + j * d2
            m[d:d + n] = m[s:s + n]  # the slice is a copy: the run reads the bytes as they were
    return m

ok = True
for f in sorted(glob.glob(os.path.join(os.path.dirname(__file__), '*.json'))):
    g = json.load(open(f))
    got = {'conv3x3': conv3x3, 'add': add, 'gateMul': gate_mul, 'copyBox': copy_box}[g['op']](g)
    same = got == g['expected']
    ok &= same
    print(f"{os.path.basename(f)}: {'ok' if same else 'MISMATCH'}")
sys.exit(0 if ok else 1)
