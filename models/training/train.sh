#!/usr/bin/env bash
# One command from the BUSI folder to a shipped int8 model and its float source:
#   dataset export (the box's own TypeScript preprocessing, the leak-free split of
#   models/datasets/busi-split.json) -> train.py, cosine cycles (cycle 1 from scratch in
#   runs/$STAGE1, cycle 2 warm-started from its best EMA weights with a fresh optimizer and a lower
#   peak learning rate, in runs/NAME; with STAGE2 set, cycle 2 runs in runs/$STAGE2 and a cycle 3 from
#   its best in runs/NAME: hard negatives for the lesion-present decision, its checkpoint chosen by
#   that decision -- tried, not shipped, docs/models.md; with WARM set, cycles 1-2 are taken as run at BASE_SIZE
#   and one cycle at SIZE warm-starts in runs/NAME from runs/$WARM/best.pt: the network is fully convolutional,
#   so weights trained at 128x128 load at 160x160)
#   -> calibrate.py (epoch + output bias by val Dice; cycle 3 keeps its epoch)
#   -> decision_study.py (lesion-present statistics of the outputs compared on val, leave-one-out over val)
#   -> aunet quantize (auto) -> aunet decision calibrate (lesion-present threshold on val)
#   -> aunet eval (int8 and float, on val and on the test split no choice saw) -> JSON summaries.
# Re-running resumes: steps whose outputs exist are skipped, training continues from last.pt. A run trained on a
# GPU box by models/training/sweep.py and unpacked into runs/NAME (best.pt, run.json final) counts as trained:
#   SIZE=160 STAGE1= models/training/train.sh gpu1-b160-s1 candidate.aunet   (the steps from calibrate on)
#
#   models/training/train.sh [NAME] [OUT.aunet]
# Environment (defaults = the shipped busi-lite recipe):
#   DATASET=../shared/data/busi SIZE=128 FILTERS=16 BATCH=8 TARGET_EMPTY=0 THREADS=1
#   NORMAL_WEIGHT=3 NORMAL_WEIGHT_FROM=1 PRESENCE_WEIGHT=0.5 SENSITIVITY=0.97
#   cycle 1: STAGE1=busi-lite2-f16-128 EPOCHS=150 PATIENCE=45 MAX_MINUTES=115 (STAGE1= : one cycle only, in NAME)
#   cycle 2: EPOCHS2=78 LR2=5e-4 MAX_MINUTES2=78
#   cycle 3 (off unless STAGE2 names cycle 2's run): EPOCHS3=70 LR3=2e-4 MAX_MINUTES3=75 PRESENCE_WEIGHT3=2
#     NORMAL_REPEAT3=2 (times per epoch each normal image is seen); the tried one:
#     STAGE2=busi-lite3-f16-128 models/training/train.sh busi-lite4-f16-128 candidate.aunet
#   cycle at a larger input (off unless WARM names a finished run at BASE_SIZE=128): EPOCHS4=80 LR4=3e-4 WARMUP4=1
#     MAX_MINUTES4=85; the tried one (docs/models.md, "A fourth cycle at 160x160"):
#     SIZE=160 WARM=busi-lite3-f16-128 models/training/train.sh busi-lite6-f16-160 candidate.aunet
# The presence term's k is the box's share of the frame (train.py's default, as models/lesion-decision.ts): 64 at
# 128x128, 100 at 160x160.
# MAX_MINUTES anneals a cycle's cosine schedule by that wall time at the latest (the CPU is shared).
set -euo pipefail
cd "$(dirname "$0")/../.."
NAME=${1:-busi-lite3-f16-128}
STAGE1=${STAGE1-busi-lite2-f16-128}
STAGE2=${STAGE2:-}
OUT_MODEL=${2:-models/busi-lite.aunet}
OUT_FLOAT=${OUT_MODEL%.aunet}.onnx
DATASET=${DATASET:-../shared/data/busi}
SIZE=${SIZE:-128}
FILTERS=${FILTERS:-16}
EPOCHS=${EPOCHS:-150}
BATCH=${BATCH:-8}
PATIENCE=${PATIENCE:-45}
MAX_MINUTES=${MAX_MINUTES:-115}
EPOCHS2=${EPOCHS2:-78}
LR2=${LR2:-5e-4}
MAX_MINUTES2=${MAX_MINUTES2:-78}
EPOCHS3=${EPOCHS3:-70}
LR3=${LR3:-2e-4}
MAX_MINUTES3=${MAX_MINUTES3:-75}
PRESENCE_WEIGHT3=${PRESENCE_WEIGHT3:-2}
NORMAL_REPEAT3=${NORMAL_REPEAT3:-2}
WARM=${WARM:-}
BASE_SIZE=${BASE_SIZE:-128}
EPOCHS4=${EPOCHS4:-80}
LR4=${LR4:-3e-4}
WARMUP4=${WARMUP4:-1}
MAX_MINUTES4=${MAX_MINUTES4:-85}
TARGET_EMPTY=${TARGET_EMPTY:-0}  # normal images are the lesion-present decision's job now; the bias shift is chosen by val Dice
THREADS=${THREADS:-1}            # 1 thread + passive OpenMP waits: far faster than 2 on a shared, busy CPU
NORMAL_WEIGHT=${NORMAL_WEIGHT:-3}
NORMAL_WEIGHT_FROM=${NORMAL_WEIGHT_FROM:-1}
PRESENCE_WEIGHT=${PRESENCE_WEIGHT:-0.5}
SENSITIVITY=${SENSITIVITY:-0.97}  # share of val lesion images the decision must call lesion (the bar on test is 0.95)
export OMP_WAIT_POLICY=PASSIVE
PY=/usr/bin/python3   # Debian's python3-torch; the python3 on PATH may lack torch
RUN=models/training/runs/$NAME
# an export's folder for side $1
data_at() { echo "models/training/runs/data-$1"; }
DATA=$(data_at "$SIZE")
AUNET="node bin/aunet.js"
mkdir -p "$RUN"

# the export at side $1 (the box's own preprocessing) -> data_at $1
export_data() {
  local data; data=$(data_at "$1")
  if [ ! -f "$data/index.json" ] || [ ! -d "$data/calib" ]; then
    echo "== export $DATASET at ${1}x$1 -> $data"
    $AUNET dataset export --dataset "$DATASET" --size "$1" --channels 1 --resize stretch --calib 64 --out "$data"
  fi
}

# train.py with the common recipe at side $1; $2 = run folder, then the cycle's own flags
train() {
  local size=$1 run=$2; shift 2
  mkdir -p "$run"
  export_data "$size"
  # done: best.onnx written, or run.json final (a GPU sweep's run, unpacked by sweep.py: best.pt, no ONNX)
  if [ ! -f "$run/best.onnx" ] && ! node -e 'process.exit(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).final ? 0 : 1)' "$run/run.json" 2>/dev/null; then
    echo "== train F=$FILTERS at ${size}x$size in $run, log: $run/log.txt"
    $PY models/training/train.py --data "$(data_at "$size")" --out "$run" --filters "$FILTERS" --batch "$BATCH" \
      --threads "$THREADS" --normal-weight "$NORMAL_WEIGHT" --normal-weight-from "$NORMAL_WEIGHT_FROM" \
      --presence-weight "$PRESENCE_WEIGHT" --resume "$@" 2>&1 | tee -a "$run/log.txt"
  fi
}
CALIBRATE=()
if [ -n "$WARM" ]; then
  # cycles 1-2 at BASE_SIZE, then one warm-started cosine cycle at SIZE, checkpoint by val Dice
  train "$BASE_SIZE" "models/training/runs/$STAGE1" --epochs "$EPOCHS" --patience "$PATIENCE" --max-minutes "$MAX_MINUTES"
  train "$BASE_SIZE" "models/training/runs/$WARM" --init "models/training/runs/$STAGE1/best.pt" --epochs "$EPOCHS2" --lr "$LR2" \
    --patience "$EPOCHS2" --max-minutes "$MAX_MINUTES2"
  train "$SIZE" "$RUN" --init "models/training/runs/$WARM/best.pt" --epochs "$EPOCHS4" --lr "$LR4" --warmup "$WARMUP4" \
    --patience "$EPOCHS4" --max-minutes "$MAX_MINUTES4"
elif [ -z "$STAGE1" ]; then
  train "$SIZE" "$RUN" --epochs "$EPOCHS" --patience "$PATIENCE" --max-minutes "$MAX_MINUTES"
else
  # cycle 1 ends with val Dice still rising once its wall-time budget has annealed the schedule;
  # a second cycle from its EMA weights costs fewer epochs than one longer run from scratch
  train "$SIZE" "models/training/runs/$STAGE1" --epochs "$EPOCHS" --patience "$PATIENCE" --max-minutes "$MAX_MINUTES"
  train "$SIZE" "${STAGE2:+models/training/runs/}${STAGE2:-$RUN}" --init "models/training/runs/$STAGE1/best.pt" --epochs "$EPOCHS2" --lr "$LR2" \
    --patience "$EPOCHS2" --max-minutes "$MAX_MINUTES2"
  if [ -n "$STAGE2" ]; then
    # cycle 3 aims at the lesion-present decision: normal images twice per epoch, a 4x presence term on the top-64
    # logit mean (the decision's own k), a lower peak rate (cycle 2 over-fit after its epoch 48), and best.pt by the
    # decision on val (called + clean at the box's rule) among epochs whose val Dice is not below cycle 2's
    train "$SIZE" "$RUN" --init "models/training/runs/$STAGE2/best.pt" --epochs "$EPOCHS3" --lr "$LR3" --warmup 1 --patience "$EPOCHS3" \
      --max-minutes "$MAX_MINUTES3" --presence-weight "$PRESENCE_WEIGHT3" --normal-repeat "$NORMAL_REPEAT3" \
      --select decision --sensitivity "$SENSITIVITY"
    CALIBRATE=(--best-only)
  fi
fi

if [ ! -f "$RUN/final.onnx" ]; then
  echo "== calibrate (epoch and output bias for emptyRate >= $TARGET_EMPTY)"
  $PY models/training/calibrate.py --run "$RUN" --data "$DATA" --target-empty "$TARGET_EMPTY" "${CALIBRATE[@]}" 2>&1 | grep -v -e UserWarning -e '_C._jit' | tee "$RUN/calibrate.txt"
fi

echo "== lesion-present statistics of the network's outputs, compared on val (docs/models.md)"
$PY models/training/decision_study.py --run "$RUN" --data "$DATA" --split val --cv --json "$RUN/decision-study-val.json" 2>&1 | grep -v -e UserWarning -e '_C._jit'

echo "== quantize -> $OUT_MODEL (auto: searched against the float output), float source -> $OUT_FLOAT"
cp "$RUN/final.onnx" "$OUT_FLOAT"
$AUNET quantize --from "$OUT_FLOAT" --calib "$DATA/calib" --method auto --out "$OUT_MODEL"
echo "== lesion-present threshold on val (sensitivity >= $SENSITIVITY)"
$AUNET decision calibrate --model "$OUT_MODEL" --dataset "$DATASET" --split val --sensitivity "$SENSITIVITY" | tee "$RUN/decision.txt"
THRESHOLD=$(node --import tsx -e 'import("./models/format.ts").then(({ readModel }) => console.log(readModel(process.argv[1]).meta.decision.threshold))' "$OUT_MODEL")
for SPLIT in val test; do
  echo "== evaluate on $SPLIT (original image size)"
  $AUNET eval --model "$OUT_FLOAT" --dataset "$DATASET" --split $SPLIT --threshold "$THRESHOLD" --json > "$RUN/eval-float-$SPLIT.json"
  $AUNET eval --model "$OUT_MODEL" --dataset "$DATASET" --split $SPLIT --json --twins-of "$DATASET" --twins-split train > "$RUN/eval-int8-$SPLIT.json"
done
node -e '
for (const s of ["val", "test"]) {
  const [f, q] = ["float", "int8"].map((k) => JSON.parse(require("fs").readFileSync(`${process.argv[1]}/eval-${k}-${s}.json`, "utf8")));
  for (const [k, r] of [["float", f], ["int8", q]]) {
    const d = r.decision;
    console.log(`${s} ${k}: lesion Dice ${r.lesion.dice.toFixed(4)} IoU ${r.lesion.iou.toFixed(4)}; shown Dice ${d.shownLesion.dice.toFixed(4)}; sensitivity ${d.sensitivity.detected}/${d.sensitivity.n}; normal clean ${d.specificity.clean}/${d.specificity.n}`);
  }
}' "$RUN" | tee "$RUN/summary.txt"
echo "== fidelity of int8 against float (test split)"
$AUNET compare --float "$OUT_FLOAT" --int8 "$OUT_MODEL" --dataset "$DATASET" --split test --json > "$RUN/compare.json"
node -e 'const c = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(`int8 vs float on test: mask Dice ${c.maskDice.toFixed(4)} over ${c.images} images, decision flips ${c.flips.length}, worst layer ${c.worstLayer} cosine ${c.minLayerCosine.toFixed(4)}`)' "$RUN/compare.json" | tee -a "$RUN/summary.txt"
node --import tsx models/training/stamp-meta.ts "$OUT_MODEL" "$RUN"
echo "== training curves -> docs/busi-lite-training.png"
node --import tsx models/training/plot-run.ts docs/busi-lite-training.png ${STAGE1:+"models/training/runs/$STAGE1"} ${STAGE2:+"models/training/runs/$STAGE2"} ${WARM:+"models/training/runs/$WARM"} "$RUN"
