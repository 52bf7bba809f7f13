import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { buildGraph, convOps, graphMacs } from '../../../models/graph.js';

test('the PyTorch AttentionUNet has exactly the graph\'s convs (names, shapes) and MAC count', () => {
  const script = `
import sys, json
sys.path.insert(0, 'models/training')
from model import AttentionUNet, count_macs
m = AttentionUNet(4, 3)
convs = {k[:-len('.weight')]: list(v.shape) for k, v in m.state_dict().items() if k.endswith('.weight') and v.dim() == 4}
bns = sorted(k[:-len('.running_mean')] for k in m.state_dict() if k.endswith('.running_mean'))
print(json.dumps({'convs': convs, 'bns': bns, 'macs': count_macs(4, 64, 3)}))
`;
  const py = JSON.parse(execFileSync('/usr/bin/python3', ['-c', script]).toString()) as { convs: Record<string, number[]>; bns: string[]; macs: number };
  const g = buildGraph({ filters: 4, height: 64, width: 64, channels: 3 });
  const want: Record<string, number[]> = {};
  for (const op of convOps(g)) want[op.name] = [op.cout, op.cin, op.k, op.k]; // PyTorch OIHW
  assert.deepEqual(py.convs, want);
  assert.deepEqual(py.bns, g.ops.filter((o) => o.kind === 'affine').map((o) => o.name).sort());
  assert.equal(py.macs, graphMacs(g));
});
