#!/usr/bin/env bash
# The quantizer table of docs/quantization.md: our calibrations against onnxruntime's quantize_static on
# models this project did not train, float-vs-int8 mask agreement on the test split (held out from every
# calibration choice), and each float model's own lesion Dice there.
#   models/training/independent/quantizer-table.sh MODEL.onnx|MODEL.keras [DATA_DIR] [OUT_DIR]
# DATA_DIR: an `aunet dataset export` of the model's input size (calib/ = 64 training-split images,
# test_images.npy); PY: a python with onnxruntime, numpy and pillow (pip, the local index).
set -euo pipefail
cd "$(dirname "$0")/../../.."
MODEL=$1
DATA=${2:-models/training/runs/data-96}
OUT=${3:-models/training/runs/quantizer-$(basename "${MODEL%.*}")}
PY=${PY:-python3}
DATASET=${DATASET:-../shared/data/busi}
AUNET="node bin/aunet.js"
mkdir -p "$OUT"
FLOAT=$MODEL
if [[ $MODEL != *.onnx ]]; then
  # onnxruntime needs ONNX: the same weights through our importer and exporter (exact round trip)
  FLOAT=$OUT/float.onnx
  $AUNET export --from "$MODEL" --onnx "$FLOAT"
fi
echo "== float model on the test split"
$AUNET eval --model "$FLOAT" --dataset "$DATASET" --split test --json > "$OUT/eval-float-test.json"
for METHOD in auto percentile minmax mse; do
  echo "== aunet quantize --method $METHOD"
  /usr/bin/time -f "%e s wall, %U s user" $AUNET quantize --from "$MODEL" --calib "$DATA/calib" --method $METHOD --out "$OUT/$METHOD.aunet" --no-progress
  $AUNET compare --float "$MODEL" --int8 "$OUT/$METHOD.aunet" --dataset "$DATASET" --split test --json --no-progress > "$OUT/compare-$METHOD.json"
done
echo "== onnxruntime quantize_static"
$PY models/training/independent/ort_quantize.py --model "$FLOAT" --calib "$DATA/calib" --heldout "$DATA/test_images.npy" --out "$OUT/ort.json"
node -e '
const fs = require("fs");
const out = process.argv[1];
const f = JSON.parse(fs.readFileSync(`${out}/eval-float-test.json`, "utf8"));
console.log(`float lesion Dice on test ${f.lesion.dice.toFixed(4)} (${f.lesion.n} lesion images)`);
console.log("| quantizer | mask Dice float vs int8 (mean) | min | decision flips | worst layer (cosine) |");
console.log("|---|---|---|---|---|");
for (const m of ["auto", "percentile", "minmax", "mse"]) {
  const c = JSON.parse(fs.readFileSync(`${out}/compare-${m}.json`, "utf8"));
  console.log(`| aunet ${m} | ${c.maskDice.toFixed(4)} | ${c.minMaskDice.toFixed(4)} | ${c.flips.length} of ${c.images} | ${c.worstLayer} (${c.minLayerCosine.toFixed(4)}) |`);
}
const o = JSON.parse(fs.readFileSync(`${out}/ort.json`, "utf8"));
for (const [m, r] of Object.entries(o.methods)) console.log(`| onnxruntime ${o.onnxruntime} quantize_static ${m} (QDQ, per-channel) | ${r.maskDice.toFixed(4)} | ${r.minMaskDice.toFixed(4)} | | |`);
' "$OUT" | tee "$OUT/table.md"
