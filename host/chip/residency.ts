// Which tensors stay on chip, and when they go out and come back: the spill
// policy. Skip tensors c1..c4 (made by the encoder, read by the attention gates
// and decoder much later), attention maps a1..a4 and every other feature map
// are first-class here: each tensor's life is cut into segments of consecutive
// ops that touch it; each segment is on chip or in DRAM, and between two
// on-chip segments the tensor is either held (costs SRAM over the gap) or
// SPILLed and FETCHed back (costs DRAM traffic).
//
// Policy (greedy, deterministic):
//   1. start with everything on chip and every gap held;
//   2. tensors held across a gap may take at most half the SRAM at any op
//      (the rest is for the working tiles): over that, spill the one whose next
//      use is farthest (Belady);
//   3. place the on-chip tensors with the greedy memory planner; if they do not
//      fit, spill (or move to DRAM) the largest one alive with the one placed highest;
//   4. every layer must tile in the largest free gap of SRAM at its op; if it
//      does not, spill held tensors (farthest next use first), then move the
//      layer's own largest resident operand to DRAM.
// Each step only removes on-chip time, so it terminates; if a layer does not
// tile with nothing resident, the SRAM is too small for the model.
import { opInputs, type Graph, type Op } from '../../models/graph.js';
import { GreedyMemoryPlanner } from '../engine/planner.js';
import { ChipConfigError } from './chip-config.js';
import { ALIGN, align, chooseTiling, minimumWorkingSet, type LayerGeom, type Residency, type Tiling } from './tiling.js';

export interface Segment {
  first: number;
  last: number;
  on: boolean;
}

export interface TensorLife {
  tensor: string;
  bytes: number;
  producer: number;
  /** ops that read it */
  uses: number[];
  segments: Segment[];
  /** gapHeld[s]: held on chip between segments s and s+1 */
  gapHeld: boolean[];
}

export interface Holding {
  tensor: string;
  first: number;
  last: number;
  bytes: number;
  offset: number;
}

export interface ResidencyPlan {
  lives: Map<string, TensorLife>;
  holdings: Holding[];
  /** per op: tiling, where its tile area starts, which operands are resident */
  layers: { tiling: Tiling; areaOffset: number; areaBytes: number; residency: Residency; residentBytes: number }[];
  /** per op: tensors fetched before it and spilled after it */
  fetchBefore: string[][];
  spillAfter: string[][];
}

/** The SRAM holding of `tensor` at layer `layer` (a tensor may be held, spilled and fetched again: several holdings), if any. */
export function holdingAt(plan: ResidencyPlan, tensor: string, layer: number): Holding | undefined {
  return plan.holdings.find((h) => h.tensor === tensor && h.first <= layer && layer <= h.last);
}


/** Tensors that must end in DRAM: the attention maps (the monitor reads them there). */
export function planResidency(g: Graph, geoms: LayerGeom[], sramBytes: number): ResidencyPlan {
  const lives = new Map<string, TensorLife>();
  g.ops.forEach((op, i) => {
    for (const t of opInputs(op)) lives.get(t)?.uses.push(i);
    if (op.output !== g.output) {
      const s = g.tensors.get(op.output)!;
      lives.set(op.output, { tensor: op.output, bytes: s.h * s.w * s.c, producer: i, uses: [], segments: [], gapHeld: [] });
    }
  });
  for (const l of lives.values()) {
    const pts = [l.producer, ...l.uses];
    let seg: Segment = { first: pts[0], last: pts[0], on: true };
    for (const p of pts.slice(1)) {
      if (p - seg.last <= 1) seg.last = p;
      else {
        l.segments.push(seg);
        seg = { first: p, last: p, on: true };
      }
    }
    l.segments.push(seg);
    l.gapHeld = l.segments.slice(1).map(() => true);
  }
  // a tensor too big for the SRAM is never on chip
  for (const l of lives.values()) if (align(l.bytes) > sramBytes) for (const s of l.segments) s.on = false;

  const operands = (i: number) => [...opInputs(g.ops[i]), g.ops[i].output];
  const segAt = (l: TensorLife, i: number) => l.segments.find((s) => s.first <= i && i <= s.last);
  const heldGapAt = (l: TensorLife, i: number) =>
    l.segments.findIndex((s, k) => k + 1 < l.segments.length && l.gapHeld[k] && s.on && l.segments[k + 1].on && s.last < i && i < l.segments[k + 1].first);
  const nextUse = (l: TensorLife, i: number) => l.uses.find((u) => u > i) ?? Infinity;
  const residencyAt = (i: number): Residency => {
    const op = g.ops[i];
    const on = (t: string) => !!(lives.get(t) && segAt(lives.get(t)!, i)?.on);
    return { inputs: opInputs(op).map(on), out: on(op.output) };
  };

  // step 2: the half rule
  for (let i = 0; i < g.ops.length; i++) {
    const ops = new Set(operands(i));
    for (;;) {
      const held = [...lives.values()].filter((l) => !ops.has(l.tensor) && heldGapAt(l, i) >= 0);
      const bytes = held.reduce((s, l) => s + align(l.bytes), 0);
      if (bytes <= sramBytes / 2) break;
      const victim = held.sort((a, b) => nextUse(b, i) - nextUse(a, i) || b.bytes - a.bytes)[0];
      victim.gapHeld[heldGapAt(victim, i)] = false;
    }
  }

  // steps 3 and 4
  for (;;) {
    const holdings = holdingsOf(lives);
    const planner = new GreedyMemoryPlanner(ALIGN);
    for (const h of holdings) planner.addBuffer(h.bytes, h.first, h.last);
    if (planner.maxSize() > sramBytes) {
      holdings.forEach((h, k) => (h.offset = planner.offsetOf(k)));
      // the highest-placed holding overflows; free the most space where it lives:
      // the largest holding alive at the same time as it
      const top = holdings.reduce((a, b) => (b.offset + b.bytes > a.offset + a.bytes ? b : a));
      const victim = holdings.filter((h) => h.first <= top.last && top.first <= h.last).reduce((a, b) => (b.bytes > a.bytes ? b : a));
      evictHolding(lives.get(victim.tensor)!, victim);
      continue;
    }
    holdings.forEach((h, k) => (h.offset = planner.offsetOf(k)));
    const layers: ResidencyPlan['layers'] = [];
    let failed = -1;
    for (let i = 0; i < g.ops.length; i++) {
      const live = holdings.filter((h) => h.first <= i && i <= h.last).sort((a, b) => a.offset - b.offset);
      const [areaOffset, areaBytes] = largestGap(live, sramBytes);
      const residency = residencyAt(i);
      const tiling = chooseTiling(geoms[i], residency, areaBytes);
      if (!tiling) {
        failed = i;
        break;
      }
      layers.push({ tiling, areaOffset, areaBytes, residency, residentBytes: live.reduce((s, h) => s + h.bytes, 0) });
    }
    if (failed < 0) return { lives, holdings, layers, ...events(lives, g) };
    const i = failed;
    const ops = new Set(operands(i));
    const gapVictims = [...lives.values()].filter((l) => !ops.has(l.tensor) && heldGapAt(l, i) >= 0);
    if (gapVictims.length) {
      const v = gapVictims.sort((a, b) => nextUse(b, i) - nextUse(a, i) || b.bytes - a.bytes)[0];
      v.gapHeld[heldGapAt(v, i)] = false;
      continue;
    }
    const own = [...ops].map((t) => lives.get(t)).filter((l): l is TensorLife => !!l && !!segAt(l, i)?.on);
    if (own.length) {
      segAt(own.sort((a, b) => b.bytes - a.bytes)[0], i)!.on = false;
      continue;
    }
    const need = minimumWorkingSet(geoms[i]);
    const op = g.ops[i];
    throw new ChipConfigError(
      `sram.bytes: ${sramBytes} bytes cannot hold one tile of layer ${op.name} (${op.kind}); its smallest tile needs ${need} bytes (this model needs sram.bytes >= ${minimumSramBytes(geoms)})`,
      'sram.bytes',
    );
  }
}

/** Smallest sram.bytes with which every layer can run (nothing resident, smallest tiles). */
export function minimumSramBytes(geoms: LayerGeom[]): number {
  return geoms.reduce((m, L) => Math.max(m, minimumWorkingSet(L)), 0);
}

function holdingsOf(lives: Map<string, TensorLife>): Holding[] {
  const out: Holding[] = [];
  for (const l of lives.values()) {
    let cur: Holding | null = null;
    l.segments.forEach((s, k) => {
      if (!s.on) {
        cur = null;
        return;
      }
      if (cur && k > 0 && l.gapHeld[k - 1] && l.segments[k - 1].on) cur.last = s.last;
      else {
        cur = { tensor: l.tensor, first: s.first, last: s.last, bytes: align(l.bytes), offset: -1 };
        out.push(cur);
      }
    });
  }
  return out;
}

/** Take a placed holding off chip for part of its time: its longest held gap, else its largest segment. */
function evictHolding(l: TensorLife, h: Holding): void {
  let gap = -1;
  let len = 0;
  l.segments.forEach((s, k) => {
    const n = l.segments[k + 1];
    if (n && l.gapHeld[k] && s.first >= h.first && n.last <= h.last && n.first - s.last > len) {
      len = n.first - s.last;
      gap = k;
    }
  });
  if (gap >= 0) {
    l.gapHeld[gap] = false;
    return;
  }
  const segs = l.segments.filter((s) => s.on && s.first >= h.first && s.last <= h.last);
  segs.sort((a, b) => b.last - b.first - (a.last - a.first))[0].on = false;
}

function largestGap(live: Holding[], sramBytes: number): [number, number] {
  let best: [number, number] = [0, 0];
  let at = 0;
  for (const h of live) {
    if (h.offset - at > best[1]) best = [at, h.offset - at];
    at = Math.max(at, h.offset + h.bytes);
  }
  if (sramBytes - at > best[1]) best = [at, sramBytes - at];
  return best;
}

function events(lives: Map<string, TensorLife>, g: Graph): Pick<ResidencyPlan, 'fetchBefore' | 'spillAfter'> {
  const n = g.ops.length;
  const fetchBefore: string[][] = Array.from({ length: n }, () => []);
  const spillAfter: string[][] = Array.from({ length: n }, () => []);
  const mustEndInDram = new Set<string>(g.attention);
  for (const l of lives.values()) {
    let inDram = !l.segments[0].on; // stored tile by tile by its producer
    l.segments.forEach((s, k) => {
      const prevHeld = k > 0 && l.segments[k - 1].on && l.gapHeld[k - 1];
      if (k > 0 && s.on && !prevHeld) fetchBefore[s.first].push(l.tensor);
      if (!s.on) return;
      const next = l.segments[k + 1];
      const leaves = next ? !(next.on && l.gapHeld[k]) : mustEndInDram.has(l.tensor);
      if (leaves && !inDram) {
        spillAfter[s.last].push(l.tensor);
        inDram = true;
      }
    });
  }
  return { fetchBefore, spillAfter };
}
