// The layer order of docs/architecture.md, enforced by dependency-cruiser in
// `npm test` (tests/layers.test.ts). Each folder lists the folders it may import
// from; everything not listed is forbidden, so a new upward import fails the
// suite. Type-only imports count (tsPreCompilationDeps): a type is a dependency too.
//
// Bottom to top. A folder's own files may import each other (a subfolder of a
// listed folder belongs to it, e.g. camera/sources to camera, models/onnx to models).
const LAYERS = {
  common: [],
  contracts: ['common'],
  models: ['common'],
  camera: ['common', 'models'],
  firmware: ['common', 'contracts'],
  'monitor/src': ['common', 'contracts'],
  'host/kernels': ['common', 'models'],
  'host/engine': ['common', 'models', 'host/kernels'],
  'host/chip': ['common', 'models', 'host/kernels', 'host/engine'],
  'host/load': ['common', 'models', 'host/kernels', 'host/engine', 'host/chip'],
  'host/publish': ['common', 'contracts'],
  'host/pipeline': ['common', 'contracts', 'models', 'camera', 'host/engine'],
  'host/replay': ['common', 'contracts', 'models', 'camera', 'host/kernels', 'host/engine', 'host/load'],
  'host/evaluation': ['common', 'models', 'camera', 'host/kernels', 'host/engine', 'host/load'],
  'host/bench': ['common', 'models', 'host/kernels', 'host/engine', 'host/chip', 'host/load'],
  'host/box': ['common', 'contracts', 'models', 'camera', 'firmware', 'host/kernels', 'host/engine', 'host/chip', 'host/load', 'host/publish', 'host/pipeline'],
  'host/commands': ['common', 'contracts', 'models', 'camera', 'firmware', 'host/kernels', 'host/engine', 'host/chip', 'host/load', 'host/publish', 'host/pipeline', 'host/replay', 'host/evaluation', 'host/bench', 'host/box'],
  // host/cli.ts: the command table; each command module is imported lazily by name
  host: ['common', 'host/commands'],
};

const esc = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
// a module of `folder` itself (a file directly in it, or in a subfolder that is not a layer of its own)
const own = (folder) => {
  const nested = Object.keys(LAYERS).filter((f) => f !== folder && f.startsWith(`${folder}/`));
  return nested.length ? `^${esc(folder)}/(?!(${nested.map((n) => esc(n.slice(folder.length + 1))).join('|')})/)` : `^${esc(folder)}/`;
};

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle: the layers must form a DAG, and so must the files inside a folder.',
      from: {},
      to: { circular: true },
    },
    ...Object.entries(LAYERS).map(([folder, allowed]) => ({
      name: `layer-${folder.replace(/\//g, '-')}`,
      severity: 'error',
      comment: `${folder}/ may import only ${allowed.length ? allowed.join(', ') : 'node and npm packages'} (docs/architecture.md, "Layers")`,
      from: { path: own(folder) },
      to: {
        // the project's own modules; packages and node: built-ins are not layers
        path: '^(common|contracts|models|camera|firmware|monitor|host|assembly|bin|scripts|tests)/|^[^/]+\\.(json|js|cjs|ts)$',
        pathNot: [own(folder), ...allowed.map((a) => `^${esc(a)}/`), '^package\\.json$'],
      },
    })),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|build|dist|monitor/dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};
