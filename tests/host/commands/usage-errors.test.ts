// Every command's usage mistakes come out in the one style, short: exactly one
// line `aunet: <problem> (<flag or argument>): <what to do>` naming the
// command's own --help, exit 2, never commander's "error:" and never the whole
// help. Walks every command and subcommand `aunet --help` lists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runAunet } from '../../support/aunet-cli.js';

/** The command names in a help text's "Commands:" section. */
function commands(help: string): string[] {
  const section = help.split(/^Commands:$/m)[1] ?? '';
  return [...section.matchAll(/^ {2}([a-z][a-z-]*)\b/gm)].map((m) => m[1]).filter((c) => c !== 'help');
}

test('an unknown option on every command and subcommand: one line naming the option and that command\'s --help, exit 2', { timeout: 240_000 }, async () => {
  const top = await runAunet(['--help']);
  const paths: string[][] = [];
  for (const c of commands(top.stdout)) {
    paths.push([c]);
    const help = await runAunet([c, '--help']);
    for (const sub of commands(help.stdout)) paths.push([c, sub]);
  }
  assert.ok(paths.length >= 19, `${paths.length} commands found`);
  assert.ok(paths.some((p) => p.join(' ') === 'firmware build'), 'subcommands are walked');
  const results = await Promise.all(paths.map(async (p) => ({ p, r: await runAunet([...p, '--no-such-flag']) })));
  for (const { p, r } of results) {
    const cmd = `aunet ${p.join(' ')}`;
    assert.equal(r.code, 2, `${cmd}: exit ${r.code}\n${r.stderr}`);
    // commander checks required options first: either problem is fine, in this one line
    const esc = cmd.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    assert.match(r.stderr, new RegExp(`^aunet: (unknown option \\(--no-such-flag\\)|required option not given \\([^)]+\\)): \`${esc} --help\` lists its options\n$`), cmd);
  }
});

test('missing arguments, missing values, bad choices and unknown commands: the same one-line style', async () => {
  const cases: [string[], RegExp][] = [
    [['replay'], /^aunet: missing argument \(<sources>\): `aunet replay --help` lists its options\n$/],
    [['probe', 'phantom:', '--count'], /^aunet: option given without its value \(--count <n>\): `aunet probe --help` lists its options\n$/],
    [['replay', 'phantom:', '--engine', 'gpu'], /^aunet: argument 'gpu' is invalid; choose one of chip, direct \(--engine <kind>\): `aunet replay --help` lists its options\n$/],
    [['replay', 'phantom:', '--lop'], /^aunet: unknown option \(--lop\): did you mean --loop\? `aunet replay --help` lists its options\n$/],
    [['probe', 'phantom:', '--count', 'x'], /^aunet: must be an integer >= 1, not x \(--count\): see `aunet probe --help`\n$/],
    [['frobnicate'], /^aunet: unknown command \(frobnicate\): `aunet --help` lists the commands\n$/],
  ];
  for (const [args, re] of cases) {
    const r = await runAunet(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, re, args.join(' '));
  }
});
