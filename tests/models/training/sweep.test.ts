import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Debian's PyTorch, as the recipe runs it (a GPU box runs the same script with --device cuda)
const PY = '/usr/bin/python3';
/** models/training/sweep.py with these arguments, its exit status and output */
const sweep = (...args: string[]) => spawnSync(PY, ['models/training/sweep.py', ...args], { encoding: 'utf8' });

// a tiny export in the layout `aunet dataset export` writes (32x32 grey, a square lesion on the lesion images),
// named after images of the shipped split file (models/datasets/busi-split.json), twins among them: 10 train images
// (two twin pairs, then singles) and 4 val images, with their classes
const EXPORT = `
import json, os, sys
import numpy as np
out = sys.argv[1]
os.makedirs(out)
split = json.load(open('models/datasets/busi-split.json'))
im = split['images']
pairs = [g for g in split['groups'] if len(g) == 2 and all(im[n]['split'] == 'train' for n in g)][:2]
twins = [n for g in pairs for n in g]
singles = [n for n, e in im.items() if e['split'] == 'train' and n not in twins and e['cls'] != 'malignant']
names = {'train': twins + singles[:3] + [n for n in singles if im[n]['cls'] == 'normal'][:3],
         'val': [n for n, e in im.items() if e['split'] == 'val'][:3] + [n for n, e in im.items() if e['split'] == 'val' and e['cls'] == 'normal'][:1]}
rng = np.random.default_rng(7)
entries = {}
for s, ns in names.items():
    x = rng.integers(0, 256, (len(ns), 32, 32, 1), dtype=np.uint8)
    m = np.zeros((len(ns), 32, 32, 1), np.uint8)
    for i, n in enumerate(ns):
        if im[n]['cls'] != 'normal':
            m[i, 8:20, 10:22] = 1
            x[i, 8:20, 10:22] //= 3
    np.save(os.path.join(out, f'{s}_images.npy'), x)
    np.save(os.path.join(out, f'{s}_masks.npy'), m)
    entries[s] = [{'name': n, 'cls': im[n]['cls']} for n in ns]
json.dump({'dataset': 'tiny', 'preprocessing': {}, 'split': {'file': 'busi-split.json', 'method': 'test'},
           'splits': {**{s: {'entries': e} for s, e in entries.items()}, 'test': {'entries': []}}},
          open(os.path.join(out, 'index.json'), 'w'))
print(json.dumps(pairs))
`;

test('sweep.py trains runs side by side in a wall-time budget, packs them and unpacks weights this torch loads', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aunet-sweep-'));
  try {
    execFileSync(PY, ['-c', EXPORT, join(dir, 'data', 'data-128')]);
    const run = sweep('run', '--data', join(dir, 'data'), '--out', join(dir, 'out'),
      '--work', join(dir, 'work'), '--device', 'cpu', '--minutes', '0.01', '--grace', '60', '--epochs', '50',
      '--only', 'b128-s1,d128-s1');
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /packed 2 runs into .*sweep-1\.tar\.gz/);
    const typo = sweep('run', '--data', join(dir, 'data'), '--out', join(dir, 'out'), '--device', 'cpu',
      '--only', 'b128-s1,b129-s1');
    assert.notEqual(typo.status, 0);
    assert.match(typo.stderr, /--only: no run named b129-s1/);
    const runs = join(dir, 'runs');
    const un = sweep('unpack', '--archive', join(dir, 'out', 'sweep-1.tar.gz'), '--runs', runs);
    assert.equal(un.status, 0, un.stderr);
    for (const name of ['b128-s1', 'd128-s1']) {
      const summary = JSON.parse(readFileSync(join(runs, name, 'run.json'), 'utf8'));
      // the 400-epoch bound is never what stops a sweep run: its budget anneals and ends it
      assert.ok(summary.final && summary.epochs >= 1 && summary.epochs < 50, `${name}: ${summary.epochs} epochs`);
      assert.equal(summary.device, 'cpu');
      assert.ok(!JSON.stringify(summary).includes(dir), `${name}: run.json names no path of the machine`);
    }
    const distilled = JSON.parse(readFileSync(join(runs, 'd128-s1', 'run.json'), 'utf8'));
    assert.equal(distilled.recipe.teacher_filters, 48);
    assert.match(readFileSync(join(runs, 'd128-s1', 'log.txt'), 'utf8'), /teacher F=48: val Dice/);
    // the unpacked weights are the run's best.pt within float16's rounding, and load into the recipe's network
    const check = `
import sys, torch
sys.path.insert(0, 'models/training')
from model import AttentionUNet
a = torch.load(sys.argv[1]); b = torch.load(sys.argv[2])
m = AttentionUNet(a['filters'], a['in_channels']); m.load_state_dict(a['model'])
err = max(((a['model'][k].float() - b['model'][k].float()).abs() / (b['model'][k].float().abs() + 1e-3)).max().item()
          for k in b['model'] if b['model'][k].is_floating_point())
print(a['epoch'] == b['epoch'], sorted(a['model']) == sorted(b['model']), err)
`;
    const [sameEpoch, sameKeys, err] = execFileSync(PY, ['-c', check, join(runs, 'b128-s1', 'best.pt'), join(dir, 'work', 'runs', 'b128-s1', 'best.pt')])
      .toString().trim().split(' ');
    assert.equal(sameEpoch, 'True');
    assert.equal(sameKeys, 'True');
    assert.ok(Number(err) < 1e-3, `float16 round trip: relative error ${err}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a k-fold sweep trains every fold of train + val with twins together and pools the out-of-fold images', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aunet-sweep-'));
  try {
    const pairs = JSON.parse(execFileSync(PY, ['-c', EXPORT, join(dir, 'data', 'data-128')]).toString()) as string[][];
    assert.equal(pairs.length, 2);
    const run = sweep('run', '--data', join(dir, 'data'), '--out', join(dir, 'out'),
      '--work', join(dir, 'work'), '--device', 'cpu', '--minutes', '0.01', '--grace', '60', '--epochs', '50',
      '--only', 'b128-s1', '--folds', '3');
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /packed 3 runs into .*sweep-cv\.tar\.gz/);
    const runs = join(dir, 'runs');
    const un = sweep('unpack', '--archive', join(dir, 'out', 'sweep-cv.tar.gz'), '--runs', runs);
    assert.equal(un.status, 0, un.stderr);
    const validated: string[][] = [];
    for (const k of [0, 1, 2]) {
      const r = JSON.parse(readFileSync(join(runs, `b128-s1-f${k}`, 'run.json'), 'utf8'));
      assert.deepEqual([r.cv.folds, r.cv.fold, r.cv.train + r.cv.val], [3, k, 14]);
      assert.ok(!existsSync(join(runs, `b128-s1-f${k}`, 'best.pt')), 'a cross-validation run brings back no weights');
      const v = JSON.parse(readFileSync(join(runs, `b128-s1-f${k}`, 'val-images.json'), 'utf8'));
      assert.equal(v.images.length, r.cv.val);
      validated.push(v.images.map((i: { name: string }) => i.name));
    }
    // every image of train + val validated exactly once, and each twin pair in one fold
    const all = validated.flat();
    assert.equal(all.length, 14);
    assert.equal(new Set(all).size, 14);
    for (const [a, b] of pairs) assert.ok(validated.some((f) => f.includes(a) && f.includes(b)), `${a} and ${b} in one fold`);
    const json = join(dir, 'cv.json');
    const cv = sweep('cv', '--runs', runs, '--json', json);
    assert.equal(cv.status, 0, cv.stderr);
    assert.match(cv.stdout, /\| b128-s1 \| 14 \|/);
    const report = JSON.parse(readFileSync(json, 'utf8')).settings[0];
    assert.equal(report.lesions + report.normals, 14);
    // each fold ended by its wall-time budget (how many epochs fit depends on the machine's speed), none stopped
    assert.equal(report.epochs.length, 3);
    assert.ok(report.epochs.every((e: number) => e >= 1 && e < 50), `epochs per fold ${report.epochs}`);
    assert.deepEqual(report.unfinished, []);
    // a missing fold leaves the setting out rather than judging it on part of the images
    rmSync(join(runs, 'b128-s1-f1'), { recursive: true });
    const part = sweep('cv', '--runs', runs);
    assert.match(part.stdout, /b128-s1: folds \[0, 2\] of 3, left out/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sweep.py unpack refuses an archive member outside a run folder, naming the archive and the member', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aunet-sweep-'));
  try {
    const archive = join(dir, 'bad.tar.gz');
    execFileSync(PY, ['-c', `
import io, sys, tarfile
with tarfile.open(sys.argv[1], 'w:gz') as t:
    data = b'{}'
    info = tarfile.TarInfo('b128-s1/../../escaped.json'); info.size = len(data); t.addfile(info, io.BytesIO(data))
`, archive]);
    const un = sweep('unpack', '--archive', archive, '--runs', join(dir, 'runs'));
    assert.notEqual(un.status, 0);
    assert.match(un.stderr, /bad\.tar\.gz: unexpected member 'b128-s1\/\.\.\/\.\.\/escaped\.json'/);
    assert.ok(!existsSync(join(dir, 'escaped.json')) && !existsSync(join(dir, 'runs')), 'nothing written');
    writeFileSync(join(dir, 'not-gzip.tar.gz'), 'not an archive');
    const junk = sweep('unpack', '--archive', join(dir, 'not-gzip.tar.gz'), '--runs', join(dir, 'runs'));
    assert.notEqual(junk.status, 0);
    assert.match(junk.stderr, /not-gzip\.tar\.gz/);
    assert.doesNotMatch(junk.stderr, /Traceback/);
    // fuzzed: a valid archive (gzipped and plain tar), bytes flipped or cut; each is unpacked or refused by name
    const fuzz = spawnSync(PY, ['-c', `
import gzip, io, json, os, random, sys, tarfile, tempfile
import numpy as np
sys.path.insert(0, 'models/training')
import sweep
buf = io.BytesIO()
np.savez(buf, __meta__=np.frombuffer(json.dumps({'filters': 4, 'in_channels': 1, 'size': 32, 'epoch': 3}).encode(), dtype=np.uint8),
         **{'enc1.conv1.weight': np.ones((4, 1, 3, 3), np.float16)})
plain = io.BytesIO()
with tarfile.open(fileobj=plain, mode='w') as t:
    for name, data in (('r/run.json', b'{"final": true}'), ('r/best.npz', buf.getvalue())):
        info = tarfile.TarInfo(name); info.size = len(data); t.addfile(info, io.BytesIO(data))
gz = gzip.compress(plain.getvalue())
rng = random.Random(5)
refused = unpacked = 0
with tempfile.TemporaryDirectory() as d:
    for i in range(300):
        b = bytearray(plain.getvalue() if i % 2 else gz)
        if i % 3 == 0:
            b = b[:rng.randrange(len(b))]
        else:
            for _ in range(rng.randint(1, 8)):
                b[rng.randrange(len(b))] = rng.randrange(256)
        f = os.path.join(d, f'a{i}.tar.gz')
        open(f, 'wb').write(b)
        try:
            sweep.unpack_one(f, os.path.join(d, 'runs'))
            unpacked += 1
        except SystemExit as e:
            assert str(e).startswith(f), e
            refused += 1
print(refused, unpacked)
`], { encoding: 'utf8' });
    assert.equal(fuzz.status, 0, fuzz.stderr);
    const [refused, unpacked] = fuzz.stdout.trim().split('\n').pop()!.split(' ').map(Number);
    assert.equal(refused + unpacked, 300, `refused ${refused}, unpacked ${unpacked}`);
    assert.ok(refused > 100 && unpacked > 0, `refused ${refused}, unpacked ${unpacked} of 300 damaged archives`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
