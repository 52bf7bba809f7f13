#!/usr/bin/env python3
"""Several training runs at once on one GPU box, in a fixed wall time, and back (issue 17).

The recipe's runs take hours on the 2-core CPU; on a GPU box they take minutes, and several fit side by side.
The box lent here runs one command of at most 10 minutes, so every run gets the same wall-time budget
(train.py --max-minutes anneals its cosine schedule by then) and the sweep packs whatever each run has by its
deadline. Nothing is chosen here: the candidates come back with their per-epoch history, and the CPU machine
exports, quantizes, calibrates and evaluates them with the recipe's own steps (docs/models.md, "GPU sweep").

  on the GPU box:  python3 models/training/sweep.py run --data DIR --out OUT_DIR [--minutes 7.5] [--only a,b]
                   -> OUT_DIR/sweep-N.tar.gz, three runs each
                   DIR holds data-128/ and data-160/ (`aunet dataset export`'s train and val files and index.json),
                   and init/b160-s1.pt for the c160 runs (the first sweep's b160-s1, unpacked)
  here:            /usr/bin/python3 models/training/sweep.py unpack --archive OUT_DIR/sweep-*.tar.gz --runs models/training/runs
                   writes runs/<name>/best.pt (for this machine's torch), run.json and log.txt per run

K-fold cross-validation (the choice val's 94 images cannot make: docs/models.md, "GPU sweep"): `run --folds 5`
trains every selected setting once per fold of train + val (twins kept in one fold; train.py --folds), as runs
<name>-f0 .. -f4, and packs their records only (run.json, log.txt, val-images.json: each validated image's score and
Dice at the fold's last epoch) into OUT_DIR/sweep-cv.tar.gz; after `unpack`,
  /usr/bin/python3 models/training/sweep.py cv --runs models/training/runs [--json cv.json]
pools every setting's out-of-fold images (each image judged by the one network that did not train on it) and
prints lesion Dice, the box rule's lesion images called and normal images clean (95% Wilson intervals), and the
folds' epochs (figures at each fold's last epoch: one chosen on the fold's own images would flatter them).
The chosen setting is then trained as a plain run (no --folds) and goes through the recipe.

Weights travel as .npz (arrays by state_dict key): the GPU box's torch is newer than the recipe's, and a pickle
written by one is not promised to load in the other.
"""
import argparse
import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
import zlib

# name, export side, train.py flags beyond the common ones; every run is one cosine cycle, from scratch unless --init
COMMON = ['--filters', '16', '--batch', '8', '--normal-weight', '3', '--normal-weight-from', '1', '--presence-weight', '0.5']
RUNS_PER_ARCHIVE = 3
CONFIGS = [
    ('b128-s1', 128, ['--seed', '1']),
    ('b128-s2', 128, ['--seed', '2']),
    ('d128-s1', 128, ['--seed', '1', '--teacher-filters', '48']),
    ('d128-s2', 128, ['--seed', '2', '--teacher-filters', '48']),
    ('d128-s3', 128, ['--seed', '3', '--teacher-filters', '48']),
    ('h128-s1', 128, ['--seed', '1', '--normal-repeat', '2', '--presence-weight', '1']),
    ('dh128-s1', 128, ['--seed', '1', '--teacher-filters', '48', '--normal-repeat', '2', '--presence-weight', '1']),
    ('b160-s1', 160, ['--seed', '1']),
    ('d160-s1', 160, ['--seed', '1', '--teacher-filters', '48']),
    ('d160-s2', 160, ['--seed', '2', '--teacher-filters', '48']),
    # second cycles from the first sweep's best run at 160 (DATA/init/b160-s1.pt), as the CPU recipe's cycles 2 and 3
    ('c160-a', 160, ['--seed', '1', '--init', '{data}/init/b160-s1.pt', '--lr', '5e-4', '--warmup', '1']),
    ('c160-b', 160, ['--seed', '2', '--init', '{data}/init/b160-s1.pt', '--lr', '5e-4', '--warmup', '1']),
    ('c160-h', 160, ['--seed', '1', '--init', '{data}/init/b160-s1.pt', '--lr', '5e-4', '--warmup', '1',
                     '--normal-repeat', '2', '--presence-weight', '1']),
    ('c160-hd', 160, ['--seed', '3', '--init', '{data}/init/b160-s1.pt', '--lr', '2e-4', '--warmup', '1',
                      '--normal-repeat', '2', '--presence-weight', '2', '--select', 'decision']),
]


def run(a):
    only = set(a.only.split(',')) if a.only else None
    unknown = sorted(only - {c[0] for c in CONFIGS}) if only else []
    if unknown:
        sys.exit(f"--only: no run named {', '.join(unknown)} (runs: {', '.join(c[0] for c in CONFIGS)})")
    configs = [c for c in CONFIGS if not only or c[0] in only]
    if a.folds:
        configs = [(f'{name}-f{k}', size, [*flags, '--folds', str(a.folds), '--fold', str(k)])
                   for name, size, flags in configs for k in range(a.folds)]
    here = os.path.dirname(os.path.abspath(__file__))
    work = os.path.join(a.work, 'runs')
    os.makedirs(work, exist_ok=True)
    os.makedirs(a.out, exist_ok=True)
    procs = {}
    t0 = time.time()
    for name, size, flags in configs:
        out = os.path.join(work, name)
        os.makedirs(out, exist_ok=True)
        cmd = [sys.executable, os.path.join(here, 'train.py'), '--data', os.path.join(a.data, f'data-{size}'), '--out', out,
               '--device', a.device, '--threads', '1', '--snapshots', '0', '--onnx', '0', '--epochs', str(a.epochs),
               '--patience', str(a.epochs), '--max-minutes', str(a.minutes), *COMMON,
               *(f.replace('{data}', a.data) for f in flags)]
        log = open(os.path.join(out, 'log.txt'), 'w')
        log.write(f"sweep run {name}: data-{size}, {' '.join(COMMON + flags)}\n")
        log.flush()
        procs[name] = (subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True), log)
    deadline = t0 + a.minutes * 60 + a.grace
    while any(p.poll() is None for p, _ in procs.values()) and time.time() < deadline:
        time.sleep(5)
        print(f"{time.time() - t0:5.0f}s: " + ', '.join(f"{n} {last_epoch(os.path.join(work, n, 'log.txt'))}" for n in procs), flush=True)
    for name, (p, log) in procs.items():
        if p.poll() is None:
            print(f'{name}: past the deadline, stopped (its best.pt so far is kept)', flush=True)
            os.killpg(p.pid, signal.SIGTERM)
            p.wait()
        log.close()
    names = [c[0] for c in configs]
    if a.folds:
        # cross-validation runs are judged by their records; their weights are not a candidate for the box
        pack(work, names, os.path.join(a.out, 'sweep-cv.tar.gz'), weights=False)
        return
    # what comes back from the box: at most 8 files of 16 MiB, 64 MiB in all; a run's weights are 4.8 MB as float16
    for i in range(0, len(names), RUNS_PER_ARCHIVE):
        pack(work, names[i:i + RUNS_PER_ARCHIVE], os.path.join(a.out, f'sweep-{i // RUNS_PER_ARCHIVE + 1}.tar.gz'))


def last_epoch(log):
    try:
        lines = [line for line in open(log) if line.startswith('epoch')]
        return lines[-1].split()[1] if lines else '-'
    except OSError:
        return '?'


RECORDS = ('run.json', 'log.txt', 'val-images.json')


def pack(work, names, archive, weights=True):
    import numpy as np
    import torch
    with tarfile.open(archive, 'w:gz') as tar:
        for name in names:
            run_dir = os.path.join(work, name)
            for f in RECORDS:
                if os.path.exists(os.path.join(run_dir, f)):
                    tar.add(os.path.join(run_dir, f), arcname=f'{name}/{f}')
            if not weights:
                continue
            best = os.path.join(run_dir, 'best.pt')
            if not os.path.exists(best):
                print(f'{name}: no best.pt', flush=True)
                continue
            try:
                ck = torch.load(best, map_location='cpu')
            except Exception as e:  # one unreadable checkpoint must not cost the other runs their results
                print(f'{name}: best.pt unreadable ({e}); its history only', flush=True)
                continue
            buf = io.BytesIO()
            meta = {k: ck[k] for k in ('filters', 'in_channels', 'size', 'epoch')}
            # float16: its rounding (2^-11 relative) is far under int8's step, and it halves what travels; the
            # float model evaluated and shipped is the one with these rounded weights
            np.savez(buf, __meta__=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
                     **{k: v.numpy().astype(np.float16) if v.is_floating_point() else v.numpy() for k, v in ck['model'].items()})
            info = tarfile.TarInfo(f'{name}/best.npz')
            info.size = buf.tell()
            buf.seek(0)
            tar.addfile(info, buf)
    print(f'packed {len(names)} runs into {archive} ({os.path.getsize(archive) / 1e6:.1f} MB)', flush=True)


def unpack(a):
    for archive in a.archive:
        unpack_one(archive, a.runs)


def unpack_one(archive, runs):
    import numpy as np
    import torch
    try:
        with tarfile.open(archive) as tar:
            members = tar.getmembers()
            # every member checked before anything is written: <run>/<file>, regular files, nothing outside runs/
            for m in members:
                parts = m.name.split('/')
                if not m.isfile() or len(parts) != 2 or '' in parts or '..' in parts or parts[1] not in (*RECORDS, 'best.npz'):
                    sys.exit(f"{archive}: unexpected member {m.name!r} (a sweep archive holds <run>/{', '.join(RECORDS)}, best.npz)")
            for m in members:
                name, f = m.name.split('/')
                run_dir = os.path.join(runs, name)
                os.makedirs(run_dir, exist_ok=True)
                data = tar.extractfile(m).read()
                if f == 'best.npz':
                    z = np.load(io.BytesIO(data))
                    meta = json.loads(bytes(z['__meta__']).decode())
                    state = {k: torch.from_numpy(z[k].astype(np.float32) if z[k].dtype == np.float16 else z[k].copy())
                             for k in z.files if k != '__meta__'}
                    torch.save({'model': state, **meta}, os.path.join(run_dir, 'best.pt'))
                else:
                    open(os.path.join(run_dir, f), 'wb').write(data)
                print(f'{run_dir}/{"best.pt" if f == "best.npz" else f}', flush=True)
    except (tarfile.TarError, OSError, EOFError, ValueError, KeyError, zlib.error, zipfile.BadZipFile) as e:
        sys.exit(f'{archive}: not a readable sweep archive ({e})')


def cv(a):
    """Pool each setting's out-of-fold images over its folds and print the figures that choose among settings."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from train import box_rule
    from decision_study import wilson
    settings = {}
    for d in sorted(os.listdir(a.runs)):
        try:
            run = json.load(open(os.path.join(a.runs, d, 'run.json')))
        except (OSError, ValueError):
            continue
        if run.get('cv'):
            settings.setdefault(d.rsplit('-f', 1)[0], []).append((d, run))
    if not settings:
        sys.exit(f'{a.runs}: no cross-validation runs (run.json with "cv") in it; unpack the sweep-cv.tar.gz of a '
                 f'`sweep.py run --folds N` there first')
    report = []
    for name, runs in settings.items():
        folds = runs[0][1]['cv']['folds']
        have = sorted(r['cv']['fold'] for _, r in runs)
        if have != list(range(folds)):
            print(f'{name}: folds {have} of {folds}, left out', flush=True)
            continue
        images = []
        for d, _ in runs:
            try:
                images += json.load(open(os.path.join(a.runs, d, 'val-images.json')))['images']
            except (OSError, ValueError, KeyError) as e:
                sys.exit(f'{os.path.join(a.runs, d, "val-images.json")}: not readable ({e})')
        pos = [i['score'] for i in images if i['lesion']]
        neg = [i['score'] for i in images if not i['lesion']]
        rule = box_rule(pos, neg, a.sensitivity)
        report.append({'setting': name, 'folds': folds, 'images': len(images),
                       'lesionDice': float(sum(i['dice'] for i in images if i['lesion']) / max(1, len(pos))),
                       'called': rule['called'], 'lesions': len(pos), 'calledCi95': wilson(rule['called'], len(pos)),
                       'clean': rule['clean'], 'normals': len(neg), 'cleanCi95': wilson(rule['clean'], len(neg)),
                       'threshold': rule['threshold'], 'epochs': [r['epochs'] for _, r in sorted(runs, key=lambda x: x[1]['cv']['fold'])],
                       'unfinished': sorted(r['cv']['fold'] for _, r in runs if not r.get('final'))})
    report.sort(key=lambda r: (-(r['called'] + r['clean']), -r['lesionDice']))
    print('| setting | images | lesion Dice | called | clean | threshold | epochs per fold |')
    print('|---|---|---|---|---|---|---|')
    for r in report:
        print(f"| {r['setting']} | {r['images']} | {r['lesionDice']:.4f} | {r['called']}/{r['lesions']} "
              f"({r['calledCi95'][0]:.2f}-{r['calledCi95'][1]:.2f}) | {r['clean']}/{r['normals']} "
              f"({r['cleanCi95'][0]:.2f}-{r['cleanCi95'][1]:.2f}) | {r['threshold']:.3f} | {r['epochs']}"
              f"{' (folds ' + str(r['unfinished']) + ' stopped at the deadline)' if r['unfinished'] else ''} |", flush=True)
    if a.json:
        json.dump({'sensitivity': a.sensitivity, 'settings': report}, open(a.json, 'w'), indent=1)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest='cmd', required=True)
    r = sub.add_parser('run')
    r.add_argument('--data', required=True, help='folder holding data-128/ and data-160/')
    r.add_argument('--out', required=True, help='where the sweep-N.tar.gz files go')
    r.add_argument('--work', default=os.path.join(tempfile.gettempdir(), 'aunet-sweep'), help='run folders (checkpoints) while training')
    r.add_argument('--minutes', type=float, default=7.5, help='wall-time budget of every run')
    r.add_argument('--grace', type=float, default=40, help='seconds past the budget before a run is stopped')
    r.add_argument('--epochs', type=int, default=400, help='upper bound; the wall-time budget usually ends a run first')
    r.add_argument('--device', default='cuda')
    r.add_argument('--only', default='', help='comma-separated run names')
    r.add_argument('--folds', type=int, default=0, help='k-fold cross-validation: every selected run once per fold (records only)')
    u = sub.add_parser('unpack')
    u.add_argument('--archive', required=True, nargs='+', help="the run's sweep-N.tar.gz files")
    u.add_argument('--runs', required=True)
    c = sub.add_parser('cv')
    c.add_argument('--runs', required=True, help='folder of unpacked runs')
    c.add_argument('--sensitivity', type=float, default=0.97, help="the box rule's share of lesion images kept called")
    c.add_argument('--json', default='', help='also write the table as JSON')
    a = p.parse_args()
    {'run': run, 'unpack': unpack, 'cv': cv}[a.cmd](a)


if __name__ == '__main__':
    main()
