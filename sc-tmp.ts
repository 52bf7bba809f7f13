import { createWasmKernels } from './host/kernels/wasm-kernels.ts';
import { quantizeMultiplier } from './models/quant-math.ts';
const ks: any = createWasmKernels({ build: 'simd' });
const [H, W, cin, cout] = process.argv.slice(2).map(Number);
const group = ks.convChannelGroup(3), per = ks.convWeightBytes(3, cin, 1);
const wB = per * Math.ceil(cout / group) * group;
const inP = 0, wP = H * W * cin + 64, outP = wP + wB + 64, bP = outP + H * W * cout + 64, mP = bP + 4 * cout, sP = mP + 4 * cout, scr = sP + 4 * cout + 64;
ks.ensureHeap(scr + (1 << 20) + 4096);
new Int8Array(ks.heap, 0, H * W * cin).forEach((_, i, a) => { a[i] = (i * 13) % 251 - 125; });
const w = new Int8Array(9 * cin * cout).map((_, i) => ((i * 31) % 200) - 100);
ks.packConvWeights(3, cin, cout, w, wP, 1);
const i32 = new Int32Array(ks.heap); for (let c = 0; c < cout; c++) { const q = quantizeMultiplier(2 ** -12); i32[(mP >> 2) + c] = q.multiplier; i32[(sP >> 2) + c] = q.shift; }
let ref: Uint8Array | null = null;
for (const sb of [1 << 20, 1 << 18, 1 << 17, 1 << 16, 1 << 15]) {
  const call = () => ks.conv3x3(inP, H, W, cin, -3, outP, H, W, cout, cout, 1, 1, 1, wP, bP, mP, sP, -128, -128, 127, scr, sb);
  try { call(); } catch (e) { console.log(sb, 'fails', (e as Error).message.slice(0, 60)); continue; }
  const out = new Uint8Array(ks.heap, outP, H * W * cout).slice();
  if (ref && Buffer.compare(ref, out) !== 0) console.log('MISMATCH'); ref ??= out;
  for (let i = 0; i < 20; i++) call();
  const t0 = performance.now(); for (let i = 0; i < 100; i++) call(); const ms = (performance.now() - t0) / 100;
  console.log(`${H}x${W}x${cin}->${cout} scratch ${sb >> 10} KiB: ${ms.toFixed(3)} ms, ${(H * W * cin * cout * 9 / ms / 1e6).toFixed(1)} GMAC/s`);
}
