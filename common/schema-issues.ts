// Turning zod's validation issues into the messages users read, the one way
// every schema of the product reports them (run config, MQTT commands, chip
// configs, model headers, firmware manifests, the box state): each issue as
// "dotted.path: problem", with the value given where zod's own words omit it.
// No Node imports: the monitor's command builder uses it too.
import type { z } from 'zod';

/** An issue as zod reports it, or one a check outside the schema adds. */
export type SchemaIssue = z.core.$ZodIssue | { code?: undefined; path: readonly PropertyKey[]; message: string };

/** 'broker.port', or '(root)' for the value itself. */
export function issuePath(path: readonly PropertyKey[]): string {
  return path.length ? path.map(String).join('.') : '(root)';
}

/** The problem in words: a bound with the value that broke it, unknown keys by name, else zod's message. */
function issueText(issue: SchemaIssue): string {
  if (issue.code === 'too_small' && (issue.origin === 'number' || issue.origin === 'bigint')) {
    return `must be ${issue.inclusive ? '>=' : '>'} ${String(issue.minimum)}${issue.input !== undefined ? ` (got ${String(issue.input)})` : ''}`;
  }
  if (issue.code === 'unrecognized_keys') return `unknown field(s) ${issue.keys.join(', ')}`;
  return issue.message;
}

/** "path: problem; path: problem" for every issue (or only the first, for a one-line refusal). */
export function formatIssues(issues: readonly SchemaIssue[], options: { first?: boolean } = {}): string {
  return (options.first ? issues.slice(0, 1) : issues).map((i) => `${issuePath(i.path)}: ${issueText(i)}`).join('; ');
}
