// JUnit XML for a tester's CI (Jenkins, GitLab): one test suite, one test case
// per replayed source, failed with the case's one-line message and its error
// code. The document is built with xmlbuilder2 (escaping, encoding); its shape
// is written here because the one JUnit package (junit-report-builder) puts a
// `skipped` attribute on <testsuites> that the Jenkins JUnit schema
// (junit-10.xsd, which the xUnit plugin validates against) does not allow.
// tests/host/replay/junit.xsd restates that schema's rules; the tests validate
// every report against it.
import { writeFileSync } from 'node:fs';
import { create } from 'xmlbuilder2';
import { resourceError, FileError } from '../../common/errors.js';

export interface JunitCase {
  /** the source spec: the test case's name */
  name: string;
  seconds: number;
  /** the failure's one-line message and its error code; undefined = passed */
  failure?: { message: string; type: string };
  /** the case's summary lines and warnings */
  output: string;
}

/** XML 1.0 cannot hold most control characters, even escaped: a damaged file name may carry them. */
const xmlText = (s: string) => s.replace(/[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD');

export function junitXml(suiteName: string, cases: JunitCase[]): string {
  const failures = String(cases.filter((c) => c.failure).length);
  const time = cases.reduce((a, c) => a + c.seconds, 0).toFixed(3);
  const root = create({ version: '1.0', encoding: 'UTF-8' }).ele('testsuites', { name: suiteName, tests: String(cases.length), failures, errors: '0', time });
  const suite = root.ele('testsuite', { name: suiteName, tests: String(cases.length), failures, errors: '0', skipped: '0', time });
  for (const c of cases) {
    const tc = suite.ele('testcase', { classname: 'aunet.replay', name: xmlText(c.name), time: c.seconds.toFixed(3) });
    if (c.failure) tc.ele('failure', { type: c.failure.type, message: xmlText(c.failure.message) }).txt(xmlText(c.failure.message));
    tc.ele('system-out').txt(xmlText(c.output));
  }
  return root.end({ prettyPrint: true }) + '\n';
}

export function writeJunit(file: string, suiteName: string, cases: JunitCase[]): void {
  try {
    writeFileSync(file, junitXml(suiteName, cases));
  } catch (e) {
    throw resourceError(e, file) ?? new FileError(file, `cannot write the JUnit report: ${(e as Error).message}`, 'WRITE_FAILED');
  }
}
