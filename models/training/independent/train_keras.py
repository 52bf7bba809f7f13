#!/usr/bin/env python3
"""The study's own Keras model and training loop (Keras 3, TensorFlow backend), small enough for minutes on a CPU.

As the study: its layer classes (study_keras.py), binary cross-entropy, Adam (Keras defaults), batch 8, Keras'
`ModelCheckpoint("....h5", save_best_only=True)` (legacy HDF5, what the study's callback wrote) on the validation
loss. Not the study's: base filters 8 instead of 32, 128x128x1 inputs instead of 256x256x3 (CPU minutes), no
CLAHE (the box feeds plain grey), validation on the leak-free val split instead of validation_split=0.2. At the end
the best weights are also saved as a Keras 3 `.keras` archive (model.save's default format today).

  python3 models/training/independent/train_keras.py --data models/training/runs/data-128 --out OUT_DIR [--epochs 20]
writes OUT_DIR/study.h5 (ModelCheckpoint), OUT_DIR/study.keras, OUT_DIR/run.json; `--more N` continues from
OUT_DIR/study.h5 (weights; a fresh Adam) for N more epochs (the study trained for 250; a CPU session gets a few dozen).
An earlier model, the study's loop alone (`--epochs 20`, `--more 12`, `--more 15 --lr 2e-4 --monitor
val_lesion_dice`), reached val lesion Dice 0.664 but test 0.567: its val Dice swung between 0.3 and 0.6 from epoch to
epoch at Keras' constant 1e-3.
Not the study's either, the flags a practitioner adds when BCE at a constant 1e-3 swings and the test Dice trails
the val Dice: `--augment SHIFT` (random horizontal flips and shifts of up to SHIFT pixels, image and mask alike),
`--loss bce_dice` (BCE + 1 - the batch's soft Dice), `--lr` with a cosine decay over the invocation's epochs from the
first epoch, `--monitor val_lesion_dice` (the checkpoint keeps the epoch with the best val lesion Dice),
`--deadline HH:MM` (UTC; no epoch starts that would end after it: the checkpoint keeps the best epoch reached,
run.json's history says how many ran). The recipe of each model is in its run.json ("stages": every invocation's
flags, in order). The model in docs/quantization.md, from scratch: `--epochs 60 --filters 8 --seed 11 --loss
bce_dice --augment 6 --lr 1e-3 --monitor val_lesion_dice` on data-96 (val 0.680, test 0.637).
`--tiny` instead writes two small untrained fixtures (F=2, 32x32x1, random BatchNorm statistics) and Keras' own
output on one random frame, for the importer tests (tests/models/keras/fixtures/).
"""
import argparse
import datetime
import json
import os
import sys
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
import numpy as np  # noqa: E402
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from study_keras import attention_unet  # noqa: E402


def lesion_dice(pred, masks):
    d = [2 * np.sum((p > 0.5) * m) / (np.sum(p > 0.5) + np.sum(m)) for p, m in zip(pred, masks) if m.sum() > 0]
    return float(np.mean(d))


def soft_dice_bce(m, p):
    """BCE plus one minus the batch's soft Dice: BCE alone is dominated by the background pixels (most of a
    frame), the Dice term weighs the lesion's own pixels and is what the model is judged on."""
    inter = keras.ops.sum(m * p)
    dice = (2 * inter + 1) / (keras.ops.sum(m) + keras.ops.sum(p) + 1)
    return keras.ops.mean(keras.losses.binary_crossentropy(m, p)) + 1 - dice


def augmented(xt, mt, shift, seed):
    """Training batches with a random horizontal flip (a breast scan has no preferred side) and a random shift of
    up to `shift` pixels each way (reflect-padded, then cropped back), the same for image and mask; reshuffled
    every epoch. Seeded: the same seed gives the same batches."""
    n, size = len(xt), xt.shape[1]
    pair = np.concatenate([xt, mt], axis=-1)

    def aug(p):
        p = tf.cond(tf.random.uniform([]) < 0.5, lambda: tf.image.flip_left_right(p), lambda: p)
        if shift:
            p = tf.pad(p, [[shift, shift], [shift, shift], [0, 0]], mode='REFLECT')
            p = tf.image.random_crop(p, [size, size, pair.shape[-1]])
        return p[..., :xt.shape[-1]], p[..., xt.shape[-1]:]

    return (tf.data.Dataset.from_tensor_slices(pair).shuffle(n, seed=seed, reshuffle_each_iteration=True)
            .map(aug).batch(8))


def deadline_at(hhmm):
    """--deadline HH:MM as the next such UTC time from now (a session that runs past midnight stops tomorrow, not at once)."""
    try:
        h, m = map(int, hhmm.split(':'))
        now = datetime.datetime.now(datetime.timezone.utc)
        end = now.replace(hour=h, minute=m, second=0, microsecond=0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a UTC time HH:MM such as 23:40, got '{hhmm}'")
    return end if end > now else end + datetime.timedelta(days=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data')
    ap.add_argument('--out', required=True)
    ap.add_argument('--epochs', type=int, default=20)
    ap.add_argument('--filters', type=int, default=8)
    ap.add_argument('--seed', type=int, default=11)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--tiny', action='store_true')
    ap.add_argument('--more', type=int, default=0, help='continue from OUT_DIR/study.h5 (its weights, a fresh Adam) for this many more epochs')
    ap.add_argument('--monitor', default='val_loss', choices=['val_loss', 'val_lesion_dice'],
                    help="what ModelCheckpoint keeps the best of (the study's: val_loss)")
    ap.add_argument('--lr', type=float, default=0.0, help='Adam from this learning rate with a cosine decay over '
                    'this invocation\'s epochs (keras.optimizers.schedules.CosineDecay) instead of Keras\' constant default 1e-3')
    ap.add_argument('--loss', default='bce', choices=['bce', 'bce_dice'], help="the study's: bce; bce_dice adds 1 - the batch's soft Dice")
    ap.add_argument('--augment', type=int, default=-1, metavar='SHIFT',
                    help='random horizontal flips and random shifts of up to SHIFT pixels (0: flips only); default none')
    ap.add_argument('--deadline', default=None, type=deadline_at, help='UTC time HH:MM (the next one from now): no epoch '
                    'starts that would end after it (epoch time measured as it goes); the checkpoint keeps the best epoch reached')
    a = ap.parse_args()
    keras.utils.set_random_seed(a.seed)
    tf.config.threading.set_intra_op_parallelism_threads(a.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    os.makedirs(a.out, exist_ok=True)
    if a.tiny:
        model = attention_unet(32, 1, 2)
        model.compile(loss='binary_crossentropy', optimizer='adam')
        # non-trivial BatchNorm statistics, so the importer's BN handling is seen
        rng = np.random.default_rng(a.seed)
        for i in range(1, 5):
            bn = model.get_layer(f'Attention{i}').BN
            bn.set_weights([rng.uniform(0.5, 1.5, w.shape).astype('float32') if k in (0, 3) else rng.normal(0, 0.3, w.shape).astype('float32')
                            for k, w in enumerate(bn.get_weights())])
        # the box feeds pixel / 255: an 8-bit frame is what the float reference takes too
        pixels = rng.integers(0, 256, (32, 32), dtype=np.uint8)
        prob = model.predict(pixels.reshape(1, 32, 32, 1).astype('float32') / 255, verbose=0)
        model.save(os.path.join(a.out, 'study-tiny.h5'))
        model.save(os.path.join(a.out, 'study-tiny.keras'))
        json.dump({'keras': keras.__version__, 'tensorflow': tf.__version__, 'pixels': pixels.flatten().tolist(),
                   'prob': [round(float(v), 7) for v in prob.flatten()]}, open(os.path.join(a.out, 'study-tiny-output.json'), 'w'))
        print(f'wrote {a.out}/study-tiny.h5, study-tiny.keras and study-tiny-output.json')
        return
    load = lambda s: (np.load(os.path.join(a.data, f'{s}_images.npy')).astype('float32') / 255,  # noqa: E731
                      np.load(os.path.join(a.data, f'{s}_masks.npy')).astype('float32'))
    xt, mt = load('train')
    xv, mv = load('val')
    h5 = os.path.join(a.out, 'study.h5')
    previous = json.load(open(os.path.join(a.out, 'run.json'))) if a.more else None
    if a.more:
        # the study's `try: load_model(...)` path: resume from the checkpoint the callback kept; Keras 3
        # cannot rebind a legacy-HDF5 optimizer to the reloaded variables, so Adam starts afresh
        model = keras.models.load_model(h5, compile=False)
        first = len(previous['history']['loss'])
        best_loss = min(previous['history']['val_loss'])
        # the checkpoint is replaced only by a better epoch than the one it holds (Dice: when the last stage kept by Dice)
        last_monitor = (previous.get('stages') or [previous['recipe']])[-1].get('monitor', 'val_loss')
        best_dice = max(previous['history']['val_lesion_dice']) if last_monitor == 'val_lesion_dice' else None
    else:
        model = attention_unet(xt.shape[1], xt.shape[3], a.filters)
        first, best_loss, best_dice = 0, None, None
    epochs = a.more or a.epochs
    steps = epochs * int(np.ceil(len(xt) / 8))
    opt = keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(a.lr, steps, alpha=0.01)) if a.lr else 'adam'
    model.compile(loss=soft_dice_bce if a.loss == 'bce_dice' else 'binary_crossentropy', optimizer=opt)

    class Dice(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs['val_lesion_dice'] = lesion_dice(self.model.predict(xv, verbose=0), mv)
            print(f" val lesion Dice {logs['val_lesion_dice']:.4f}", flush=True)

    class Deadline(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.time()

        def on_epoch_end(self, epoch, logs=None):
            now = datetime.datetime.now(datetime.timezone.utc)
            if now + datetime.timedelta(seconds=time.time() - self.start) > a.deadline:
                print(f' deadline {a.deadline:%H:%M} UTC: stopping after epoch {epoch + 1}', flush=True)
                self.model.stop_training = True

    train = (augmented(xt, mt, a.augment, a.seed),) if a.augment >= 0 else (xt, mt)
    hist = model.fit(*train, validation_data=(xv, mv), initial_epoch=first, epochs=first + epochs, batch_size=None if a.augment >= 0 else 8,
                     verbose=2, callbacks=[Dice()] + ([Deadline()] if a.deadline else []) + [keras.callbacks.ModelCheckpoint(h5, save_best_only=True, monitor=a.monitor, mode='min' if a.monitor == 'val_loss' else 'max',
                                                                         initial_value_threshold=best_loss if a.monitor == 'val_loss' else best_dice)])
    history = {k: [float(v) for v in vs] for k, vs in hist.history.items()}
    if previous:
        history = {k: previous['history'].get(k, []) + v for k, v in history.items()}
    # compile=False: the checkpoint's compile config may name the custom loss; inference needs none
    best = keras.models.load_model(h5, compile=False)
    best.save(os.path.join(a.out, 'study.keras'))
    # --deadline is a wall-clock guard of one session, not part of the recipe (a rerun on another day must not stop)
    recipe = {k: v for k, v in vars(a).items() if k != 'deadline'} | {'out': os.path.basename(a.out), 'data': os.path.basename(os.path.normpath(a.data))}
    # every invocation's flags, in order: the recipe of the checkpoint is the whole chain
    stages = (previous.get('stages') or [previous['recipe']]) + [recipe] if previous else [recipe]
    json.dump({'recipe': recipe, 'stages': stages, 'tensorflow': tf.__version__, 'keras': keras.__version__,
               'history': history,
               'bestValLesionDice': lesion_dice(best.predict(xv, verbose=0), mv)},
              open(os.path.join(a.out, 'run.json'), 'w'), indent=1)
    print(f'wrote {h5} and {a.out}/study.keras', flush=True)


if __name__ == '__main__':
    main()
