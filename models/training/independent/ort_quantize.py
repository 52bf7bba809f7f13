#!/usr/bin/env python3
"""onnxruntime's post-training quantization (quantize_static) on a float ONNX model, as the peer to `aunet quantize`.

QDQ format, per-channel int8 weights, int8 activations, for each calibration method (MinMax, Entropy, Percentile),
calibrated on the same images as ours; then the float and the quantized model run in onnxruntime on held-out images
and the masks (p > 0.5) are compared per image with the Dice that `aunet compare` reports (two empty masks agree).

  python3 models/training/independent/ort_quantize.py --model M.onnx --calib DATA/calib --heldout DATA/test_images.npy --out OUT.json
DATA is an `aunet dataset export` folder: calib/ holds training-split model inputs as PNG, test_images.npy the
test split (the box's own preprocessing), so both quantizers see the same pixels.
"""
import argparse
import glob
import json
import os
import tempfile

import numpy as np
import onnxruntime as ort
from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process
from PIL import Image


def model_input(path):
    s = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    i = s.get_inputs()[0]
    return s, i.name, i.shape


def to_input(pixels, shape):
    """pixels: N H W uint8 grey -> float pixel/255 in the model's layout (NCHW or NHWC, 1 or 3 channels)."""
    x = pixels.astype(np.float32) / 255
    if shape[1] in (1, 3) and shape[3] not in (1, 3):
        return np.repeat(x[:, None], shape[1], axis=1)
    return np.repeat(x[..., None], shape[3], axis=3)


class Reader(CalibrationDataReader):
    def __init__(self, name, batches):
        self.it = iter([{name: b} for b in batches])

    def get_next(self):
        return next(self.it, None)


def run(session, name, x):
    return np.concatenate([session.run(None, {name: x[i:i + 1]})[0] for i in range(len(x))])


def dice(a, b):
    inter = np.logical_and(a, b).sum()
    total = a.sum() + b.sum()
    return 1.0 if total == 0 else 2 * inter / total


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--model', required=True)
    ap.add_argument('--calib', required=True, help='folder of calibration PNGs (model size)')
    ap.add_argument('--heldout', required=True, help='.npy of held-out model inputs, N H W C uint8')
    ap.add_argument('--out', required=True)
    a = ap.parse_args()
    session, name, shape = model_input(a.model)
    calib = np.stack([np.asarray(Image.open(f).convert('L')) for f in sorted(glob.glob(os.path.join(a.calib, '*.png')))])
    held = np.load(a.heldout)[..., 0]
    xc, xh = to_input(calib, shape), to_input(held, shape)
    pf = run(session, name, xh)
    mf = pf > 0.5
    results = {'model': os.path.basename(a.model), 'calibration': len(xc), 'heldout': len(xh), 'onnxruntime': ort.__version__, 'methods': {}}
    with tempfile.TemporaryDirectory() as tmp:
        pre = os.path.join(tmp, 'pre.onnx')
        quant_pre_process(a.model, pre)
        for method in (CalibrationMethod.MinMax, CalibrationMethod.Entropy, CalibrationMethod.Percentile):
            q = os.path.join(tmp, f'{method.name}.onnx')
            quantize_static(pre, q, Reader(name, [xc[i:i + 1] for i in range(len(xc))]), quant_format=QuantFormat.QDQ,
                            per_channel=True, activation_type=QuantType.QInt8, weight_type=QuantType.QInt8, calibrate_method=method)
            qs = ort.InferenceSession(q, providers=['CPUExecutionProvider'])
            pq = run(qs, name, xh)
            d = [dice(mf[i], pq[i] > 0.5) for i in range(len(xh))]
            results['methods'][method.name] = {'maskDice': float(np.mean(d)), 'minMaskDice': float(np.min(d)),
                                               'meanAbsProbDiff': float(np.mean(np.abs(pq - pf)))}
            print(f'{method.name}: mask Dice {np.mean(d):.4f} (min {np.min(d):.4f}) on {len(xh)} held-out images', flush=True)
    json.dump(results, open(a.out, 'w'), indent=1)


if __name__ == '__main__':
    main()
