import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PhantomGenerator, PHANTOM_DEFAULTS, phantomLogCompress } from '../../camera/sources/phantom.js';

test('log compression by table gives the formula\'s grey level for every amplitude of a fine sweep', () => {
  // 0 dB = 4.5, 50 dB dynamic range, as the phantom documents; amplitudes from far under the floor to saturation
  const formula = (a: number) => Math.min(255, Math.max(0, Math.round(255 * (1 + (20 * Math.log10(a / 4.5)) / 50))));
  const amp = Float32Array.from({ length: 200_000 }, (_, i) => 1e-3 * 10 ** (i / 40_000));
  const out = new Uint8Array(amp.length);
  phantomLogCompress(amp, out);
  let differ = 0;
  for (let i = 0; i < amp.length; i++) if (out[i] !== formula(amp[i])) differ++;
  assert.equal(differ, 0);
  assert.ok(out.includes(0) && out.includes(255) && out.includes(128), 'the sweep covers the whole grey scale');
});

test('speckle is Rayleigh-like and evolves: frames differ, their statistics stay, the seed decides', () => {
  const frames = (seed: number) => {
    const g = new PhantomGenerator({ ...PHANTOM_DEFAULTS, seed, lesions: 0 });
    return Array.from({ length: 5 }, () => g.next().pixels);
  };
  const a = frames(7), b = frames(7), c = frames(8);
  assert.deepEqual(a, b, 'deterministic for a seed');
  assert.notDeepEqual(a[4], c[4]);
  const mean = (p: Uint8Array) => p.reduce((s, v) => s + v, 0) / p.length;
  let changed = 0;
  for (let i = 0; i < a[0].length; i++) if (a[0][i] !== a[4][i]) changed++;
  assert.ok(changed > a[0].length / 2, `speckle decorrelates over frames (${changed} pixels changed)`);
  assert.ok(Math.abs(mean(a[0]) - mean(a[4])) < 3, 'the tissue\'s brightness stays');
});
