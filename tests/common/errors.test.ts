// The one error table: docs/errors.md is generated from ERROR_CODES (and kept
// so by this snapshot), every code's exit status comes from its row, and the
// CLI reports commander's own parse errors as usage errors (exit 2) through
// the same path as the commands' errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { AunetError, ERROR_CODES, EXIT_BAD_INPUT, EXIT_USAGE, FileError, UsageError, type ErrorCode } from '../../common/errors.js';
import { packageFile } from '../../common/package-root.js';
import { runAunet } from '../support/aunet-cli.js';

const DOC = packageFile('docs/errors.md');
const MARKER = '<!-- generated from ERROR_CODES in common/errors.ts: edit the table there, not here -->';

function codeTable(): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const rows = Object.entries(ERROR_CODES).map(([code, [exit, meaning, remedy]]) => `| \`${code}\` | ${exit} | ${cell(meaning)} | ${cell(remedy)} |`);
  return ['| code | exit status | means | what to do |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

test('docs/errors.md lists every code of ERROR_CODES with its exit status, meaning and remedy', () => {
  const doc = readFileSync(DOC, 'utf8');
  const at = doc.indexOf(MARKER);
  assert.ok(at >= 0, `docs/errors.md has lost its marker line ${MARKER}`);
  const expected = `${doc.slice(0, at + MARKER.length)}\n\n${codeTable()}\n`;
  if (process.env.UPDATE_SNAPSHOTS) return writeFileSync(DOC, expected);
  assert.equal(doc, expected, 'stale: UPDATE_SNAPSHOTS=1 node --import tsx --test tests/common/errors.test.ts');
});

test('the exit status of an error is its row in the table', () => {
  for (const [code, [exit]] of Object.entries(ERROR_CODES)) {
    assert.equal(new AunetError(code as ErrorCode, 'x').exitCode, exit, code);
    assert.ok(exit === EXIT_BAD_INPUT || exit === EXIT_USAGE, `${code}: only 1 and 2 are error statuses (70 is for bugs)`);
  }
  assert.equal(new UsageError('--x').exitCode, EXIT_USAGE);
  assert.equal(new FileError('f', 'damaged').exitCode, EXIT_BAD_INPUT);
  assert.equal(new FileError('f', 'damaged').message, 'f: damaged');
  assert.equal(new FileError('f', 'damaged').problem, 'damaged');
  assert.equal(new FileError('f', 'damaged').subject, 'f');
  assert.equal(new FileError('f', 'damaged', 'BAD_FILE', { hint: 'do this' }).remedy, 'do this');
  assert.equal(new FileError('f', 'damaged', 'BAD_FILE').remedy, ERROR_CODES.BAD_FILE[2]);
});

test("commander's parse errors are usage errors: exit 2, reported once, with the help to read", async () => {
  const cases: [string[], RegExp][] = [
    [['probe', '--bogus', 'phantom:'], /^aunet: unknown option \(--bogus\): `aunet probe --help` lists its options\n$/],
    [['probe'], /^aunet: missing argument \(<source>\): /],
    [['infer', '--engine', 'gpu', '--model', 'm', '--input', 'i', '--out', 'o'], /argument 'gpu' is invalid; choose one of chip, direct/],
    [['bogus'], /^aunet: unknown command \(bogus\): `aunet --help` lists the commands\n$/],
  ];
  for (const [args, stderr] of cases) {
    const r = await runAunet(args);
    assert.equal(r.code, EXIT_USAGE, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, stderr, args.join(' '));
  }
  const help = await runAunet(['probe', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: aunet probe/);
});
