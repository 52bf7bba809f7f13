// The run configuration: defaults, file + flags precedence, every error by its
// dotted path (and flag), and the generated JSON Schema against its snapshot
// (docs/config.schema.json; regenerate with UPDATE_SNAPSHOTS=1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configJsonSchema, DEMO_SOURCE, loadRunConfig, resolveConfig } from '../../contracts/run-config.js';
import { DEFAULT_MODEL } from '../../common/package-root.js';
import { FileError, UsageError } from '../../common/errors.js';
import { packageFile } from '../../common/package-root.js';

const SNAPSHOT = packageFile('docs/config.schema.json');

test('defaults: shipped model, demo source, embedded broker, chip engine', () => {
  const c = resolveConfig();
  assert.equal(c.model, DEFAULT_MODEL);
  assert.equal(c.source, DEMO_SOURCE);
  assert.equal(c.broker.url, 'embedded');
  assert.equal(c.engine, 'chip');
  assert.equal(c.broker.port, 1883);
  assert.deepEqual(c.publish.gates, [1, 2, 3, 4]);
});

test('a YAML file sets everything, flags override it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aunet-cfg-'));
  try {
    const file = join(dir, 'box.yaml');
    writeFileSync(
      file,
      ['device: box-7', 'source: folder:/data/busi', 'broker:', '  url: mqtts://broker.local:8883', '  username: rt', '  password: pw', 'publish:', '  threshold: 0.3', '  gates: [1, 4]', ''].join('\n'),
    );
    const c = loadRunConfig(file, { device: 'box-8', port: undefined });
    assert.equal(c.device, 'box-8');
    assert.equal(c.source, 'folder:/data/busi');
    assert.equal(c.broker.url, 'mqtts://broker.local:8883');
    assert.equal(c.publish.threshold, 0.3);
    assert.deepEqual(c.publish.gates, [1, 4]);
    assert.equal(c.threads, undefined, 'threads: not set means the default of the live service');
    const json = join(dir, 'box.json');
    writeFileSync(json, JSON.stringify({ engine: 'direct', threads: 2 }));
    assert.equal(loadRunConfig(json, {}).threads, 2);
    assert.equal(loadRunConfig(json, { threads: 1 }).threads, 1);
    assert.equal(loadRunConfig(json, { engine: 'chip' }).engine, 'chip');
    assert.equal(loadRunConfig(json, {}).engine, 'direct');
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('every problem is reported at once, by dotted path, naming the file or the flag', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aunet-cfg-'));
  try {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, ['device: "a/b"', 'broker:', '  port: "x"', '  users:', '    - username: op', 'publish:', '  gates: [1, 1, 9]', 'colour: blue', ''].join('\n'));
    assert.throws(
      () => loadRunConfig(file, {}),
      (e: unknown) => {
        assert.ok(e instanceof FileError);
        assert.match(e.message, /bad\.yaml: invalid config/);
        for (const path of ['device:', 'broker.port:', 'publish.gates.2:', 'colour']) assert.ok(e.message.includes(path), `${path} in ${e.message}`);
        return true;
      },
    );
    // operator passwords moved to the user store (docs/security.md): an old config says where
    assert.throws(() => resolveConfig({ broker: { users: [{ username: 'op', password: 'p' }] } }, {}), /broker\.users: operator passwords no longer live in the config.*aunet users add/);
    assert.throws(() => resolveConfig({}, { port: 70000 }), (e: unknown) => e instanceof UsageError && /--port \(broker\.port\)/.test(e.message));
    assert.throws(() => resolveConfig({}, { threads: 0 }), (e: unknown) => e instanceof UsageError && /--threads \(threads\)/.test(e.message));
    assert.throws(() => resolveConfig({ threads: 65 }), /threads: .*64/);
    assert.throws(() => resolveConfig({}, { broker: 'http://x' }), /--broker \(broker\.url\).*not 'embedded'/);
    assert.throws(() => resolveConfig({ broker: { username: 'u' } }, { broker: 'mqtt://h' }), /broker\.passwordFile: username and password \(passwordFile or AUNET_BROKER_PASSWORD\) go together/);
    assert.throws(() => resolveConfig({ publish: { gates: [2, 2] } }), /publish\.gates: gates must not repeat/);
    writeFileSync(file, 'broker: [1,\n');
    assert.throws(() => loadRunConfig(file, {}), /bad\.yaml: not valid YAML/);
    assert.throws(() => loadRunConfig(join(dir, 'missing.yaml'), {}), /missing\.yaml: config not found/);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('the JSON Schema matches its snapshot', () => {
  const schema = `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
  if (process.env.UPDATE_SNAPSHOTS) writeFileSync(SNAPSHOT, schema);
  assert.equal(schema, readFileSync(SNAPSHOT, 'utf8'), 'docs/config.schema.json is stale: rerun with UPDATE_SNAPSHOTS=1 and review the diff');
  const s = JSON.parse(schema) as { properties: Record<string, unknown>; additionalProperties: boolean };
  assert.equal(s.additionalProperties, false);
  for (const key of ['device', 'source', 'model', 'engine', 'chip', 'broker', 'publish', 'pipeline', 'log']) assert.ok(key in s.properties, key);
});
