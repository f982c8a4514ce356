/**
 * The test matrix (test/etcd-matrix.txt) and the reading of `etcd --help`, without etcd: each release's
 * binary is held against what etcd-gen emits for it in test/tools/etcd-help.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deprecatedInHelp, helpFlags } from './harness/etcd-help.js';
import { matrixRows, newestPerLine } from './harness/releases.js';

test('the deprecation reading of etcd --help tells a deprecated flag from a deprecated value', () => {
  const help34 = `Logging:\n  --logger 'capnslog'\n    Specify 'zap' for structured logging or 'capnslog'. [WARN] 'capnslog' will be deprecated in v3.5.\n\nTO BE DEPRECATED:\n\n  --debug 'false'\n    Enable debug-level logging for etcd. [WARN] Will be deprecated in v3.5.\n`;
  const flags = helpFlags(help34);
  assert.equal(deprecatedInHelp(flags.get('logger') ?? ''), false);
  assert.equal(deprecatedInHelp(flags.get('debug') ?? ''), true);
  assert.equal(deprecatedInHelp('[Member:]\n  --max-snapshots 5\n    Maximum number of snapshot files to retain (0 is unlimited). Deprecated in v3.6 and will be decommissioned in v3.8.'), true);
  assert.equal(deprecatedInHelp('[TO BE DEPRECATED:]\n  --debug'), true);
});

test('the matrix covers every supported line and its newest patch runs the runbooks', () => {
  const rows = matrixRows();
  for (const minor of [5, 6, 7]) assert.ok(rows.some((r) => r.version.startsWith(`3.${minor}.`)), `test/etcd-matrix.txt has a 3.${minor} release`);
  assert.deepEqual(newestPerLine(['3.4.23', '3.5.16', '3.5.35', '3.5.30', '3.6.16', '3.7.3']), ['3.5.35', '3.6.16', '3.7.3']);
  for (const r of rows) assert.match(r.source, /^(deb|go)$/, `${r.version}: source is deb SUITE or go`);
});
