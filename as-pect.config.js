// as-pect (AssemblyScript unit tests) configuration: specs in assembly/__tests__/.
// The spec build uses as-pect.asconfig.json (full runtime, SIMD on), not the
// standalone kernel targets of asconfig.json.
export default {
  entries: ['assembly/__tests__/**/*.spec.ts'],
  include: ['assembly/__tests__/**/*.include.ts'],
  disclude: [/node_modules/],
  async instantiate(memory, createImports, instantiate, binary) {
    return instantiate(binary, createImports({ env: { memory } }));
  },
  outputBinary: false,
};
