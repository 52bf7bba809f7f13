// Golden checks testers can trust, through the real CLI on real recordings:
// every frame checked by default (no pacing), the file written only when new
// or asked for and never extended, a source that is not the golden one refused
// naming the frame, another frame selection refused, a dropped, lost or missing
// frame a failure, damaged recordings failing (salvaged ones too), live sources
// refused; several recordings in one run with JUnit XML valid against the
// schema Jenkins reads, and a report saying what its thumbnails cover.
import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { validateXML } from 'xmllint-wasm';
import { randomQModel } from '../../../models/random-qmodel.js';
import { writeModel } from '../../../models/format.js';
import { junitXml } from '../../../host/replay/junit.js';
import { tempDir } from '../../camera/helpers.js';
import { runAunet } from '../../support/aunet-cli.js';

const tmp = tempDir('golden');
after(() => tmp.remove());
const at = (name: string) => join(tmp.dir, name);
const hash = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const arch = { filters: 2, height: 32, width: 32, channels: 1 };
const model = at('a.aunet');
const other = at('b.aunet');
const recs = at('recs');
const p = join(recs, 'p.aurec');
const q = join(recs, 'q.aurec');

async function replayJson(args: string[]) {
  const r = await runAunet(['replay', ...args, '--json']);
  const lines = r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>);
  return { ...r, json: lines[lines.length - 1], lines };
}

before(async () => {
  writeModel(model, randomQModel(arch, { seed: 11 }));
  writeModel(other, randomQModel(arch, { seed: 12 }));
  mkdirSync(recs);
  for (const [file, seed] of [[p, 3], [q, 4]] as const) {
    const r = await runAunet(['record', `phantom:?size=64x48&frames=60&seed=${seed}`, '--out', file, '--flush-frames', '10']);
    assert.equal(r.code, 0, r.stderr);
  }
});

describe('golden checks are lossless and deterministic', () => {
  it('every frame is checked without pacing flags; the file is written once and never changed by a check', async () => {
    const g = at('p.json');
    const first = await replayJson([`rec:${p}`, '--model', model, '--golden', g]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.json.pacing, 'afap', 'a golden check processes every frame');
    assert.equal(first.json.golden.recorded, true);
    const file = JSON.parse(readFileSync(g, 'utf8'));
    assert.equal(file.version, 2);
    assert.equal(file.frameCount, 60);
    assert.deepEqual(file.source, { spec: `rec:${p}`, kind: 'rec' });
    assert.deepEqual(file.selection, { range: null, count: null, loop: false });
    assert.match(file.frames['59'].input, /^[0-9a-f]{64}$/);
    const h = hash(g);
    for (let i = 0; i < 2; i++) {
      const again = await replayJson([`rec:${p}`, '--model', model, '--golden', g]);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(again.json.golden.checked, 60);
      assert.equal(hash(g), h, 'a check never writes the golden file');
    }
    const other1 = await replayJson([`rec:${p}`, '--model', model, '--golden', at('p2.json')]);
    assert.equal(other1.code, 0);
    assert.equal(hash(at('p2.json')), h, 'the same run writes the same bytes');
  });

  it('explicit real-time pacing: every dropped frame is a failure, and the file is not touched', async () => {
    const g = at('p.json');
    const h = hash(g);
    const r = await replayJson([`rec:${p}`, '--model', model, '--golden', g, '--speed', '50', '--drop-after', '0.001']);
    assert.equal(r.code, 1, r.stderr);
    assert.ok(r.json.dropped > 0, 'frames were dropped');
    assert.equal(r.json.golden.missing.length, r.json.dropped);
    assert.match(r.json.golden.missing[0].why, /dropped/);
    assert.match(r.stderr, /golden frame\(s\) not checked/);
    assert.equal(hash(g), h);
  });

  it('another source is refused naming the frame; another selection is refused; --update-golden rewrites', async () => {
    const g = at('p.json');
    const wrong = await runAunet(['replay', `rec:${q}`, '--model', model, '--golden', g]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /frame 0 \(source frame 0\) is not the frame it was made from rec:.*p\.aurec \(input sha256 differs\)/);
    const range = await runAunet(['replay', `rec:${p}`, '--model', model, '--golden', g, '--range', '0:10']);
    assert.equal(range.code, 1);
    assert.match(range.stderr, /made from all frames of its source, this run takes --range 0:10/);
    const g2 = at('q.json');
    writeFileSync(g2, readFileSync(g));
    const up = await replayJson([`rec:${q}`, '--model', model, '--golden', g2, '--update-golden']);
    assert.equal(up.code, 0, up.stderr);
    assert.equal(JSON.parse(readFileSync(g2, 'utf8')).source.spec, `rec:${q}`);
    const v1 = at('v1.json');
    writeFileSync(v1, JSON.stringify({ format: 'aunet-golden', version: 1, frames: {} }));
    const old = await runAunet(['replay', `rec:${p}`, '--model', model, '--golden', v1]);
    assert.equal(old.code, 1);
    assert.match(old.stderr, /version 1 cannot be checked .*: rewrite it with --update-golden/);
  });

  it('another model: differing frames fail with their Dice', async () => {
    const r = await replayJson([`rec:${p}`, '--model', other, '--golden', at('p.json')]);
    assert.equal(r.code, 1);
    assert.ok(r.json.golden.differing.length > 0);
    assert.match(r.stderr, /was made with another model/);
  });

  it('damaged recordings fail; --salvage replays them labelled and the golden check fails on the lost frame; a torn tail fails on the frames it lacks', async () => {
    const bytes = readFileSync(p);
    let pos = -1;
    for (let k = 0; k < 30; k++) pos = bytes.indexOf('FRAM', pos + 1, 'latin1');
    const flipped = at('flipped.aurec');
    const b = Buffer.from(bytes);
    b[pos + 300] ^= 0x10;
    writeFileSync(flipped, b);
    const g = at('p.json');
    const damaged = await runAunet(['replay', `rec:${flipped}`, '--model', model, '--golden', g]);
    assert.equal(damaged.code, 1);
    assert.match(damaged.stderr, /damaged at byte \d+ \(after frame 29\): CRC mismatch/);
    const salvaged = await replayJson([`rec:${flipped}`, '--model', model, '--golden', g, '--salvage']);
    assert.equal(salvaged.code, 1, 'never passes with fewer frames than the golden file holds');
    assert.equal(salvaged.json.golden.checked, 59);
    assert.deepEqual(salvaged.json.golden.missing.map((m: { sourceIndex: number }) => m.sourceIndex), [29]);
    assert.match(salvaged.stderr, /SALVAGED/);
    const torn = at('torn.aurec');
    writeFileSync(torn, bytes.subarray(0, bytes.length - 2000));
    const tail = await replayJson([`rec:${torn}`, '--model', model, '--golden', g]);
    assert.equal(tail.code, 1);
    assert.match(tail.stderr, /warning: .*no clean end/);
    assert.ok(tail.json.golden.missing.length > 0 && /source ended/.test(tail.json.golden.missing[0].why));
  });

  it('live sources cannot be golden-checked', async () => {
    const r = await runAunet(['replay', 'v4l2:/dev/video0', '--model', model, '--golden', at('live.json')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /is a live source \(a capture card\).* cannot be golden-checked \(--golden\): record it first/);
    assert.equal(existsSync(at('live.json')), false);
  });
});

describe('many recordings in one run: JUnit XML and the report', () => {
  const xsd = readFileSync(new URL('./junit.xsd', import.meta.url), 'utf8');
  const valid = async (xml: string) => {
    const r = await validateXML({ xml: [{ fileName: 'report.xml', contents: xml }], schema: [{ fileName: 'junit.xsd', contents: xsd }] });
    assert.ok(r.valid, r.rawOutput);
  };

  it('a folder of recordings: one test case each, the failing one with its message, valid against the JUnit schema', async () => {
    const goldens = at('goldens');
    const made = await runAunet(['replay', recs, '--model', model, '--golden', goldens]);
    assert.equal(made.code, 0, made.stderr);
    assert.ok(existsSync(join(goldens, 'p.golden.json')) && existsSync(join(goldens, 'q.golden.json')));
    // q's golden file now comes from p: its case must fail, p's pass
    writeFileSync(join(goldens, 'q.golden.json'), readFileSync(join(goldens, 'p.golden.json')));
    const junit = at('junit.xml');
    const report = at('multi-report');
    const r = await runAunet(['replay', recs, '--model', model, '--golden', goldens, '--junit', junit, '--report', report]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /1 of 2 sources failed: rec:.*q\.aurec/);
    const xml = readFileSync(junit, 'utf8');
    await valid(xml);
    assert.equal((xml.match(/<testcase /g) ?? []).length, 2);
    assert.match(xml, /<testcase classname="aunet\.replay" name="rec:[^"]*q\.aurec"[^>]*>\s*<failure type="BAD_GOLDEN" message="[^"]*is not the frame it was made from/);
    assert.match(xml, /<testsuite name="aunet replay" tests="2" failures="1" errors="0"/);
    assert.ok(existsSync(join(report, 'index.html')) && existsSync(join(report, 'p', 'index.html')) && existsSync(join(report, 'q', 'index.html')));
    assert.match(readFileSync(join(report, 'index.html'), 'utf8'), /2 source\(s\), 1 failed/);
  });

  it('names with characters XML cannot hold still make a valid document', async () => {
    await valid(junitXml('aunet replay', [{ name: 'rec:a\u0001<&>".aurec', seconds: 1.5, failure: { message: 'x\u0000y & <z>', type: 'BAD_RECORDING' }, output: 'ok ]]> done' }]));
  });

  it('the report says how many differing frames its thumbnails cover', async () => {
    const long = at('long.aurec');
    assert.equal((await runAunet(['record', 'phantom:?size=64x48&frames=70&seed=5', '--out', long])).code, 0);
    const g = at('long.json');
    assert.equal((await runAunet(['replay', `rec:${long}`, '--model', model, '--golden', g])).code, 0);
    const report = at('long-report');
    const r = await runAunet(['replay', `rec:${long}`, '--model', other, '--golden', g, '--report', report]);
    assert.equal(r.code, 1);
    const html = readFileSync(join(report, 'index.html'), 'utf8');
    const n = Number(/(\d+) differ/.exec(r.stdout)?.[1]);
    assert.ok(n > 50, `${n} differing frames`);
    assert.match(html, new RegExp(`Thumbnails of the first 50 of the ${n} differing frames`));
  });
});
