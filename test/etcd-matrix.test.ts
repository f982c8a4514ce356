/**
 * What each etcd release of the test matrix says about itself, held against what etcd-gen emits for it:
 * every ETCD_* variable of a member's etcd.conf must be a flag of that very binary (`etcd --help`) that
 * its help does not call deprecated; and etcd-gen must accept the release (it exists, it parses).
 * The live start of each release (no "unrecognized environment variable" in its log) is in e2e.test.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { envName } from '../src/etcd/flags.js';
import { matrixRows, newestPerLine, testEachRelease } from './harness/releases.js';
import { buildInto, needTools, run } from './helpers.js';

/** flag -> its help text, from `etcd --help`, each prefixed with the heading of its section. */
function helpFlags(text: string): Map<string, string> {
  const flags = new Map<string, string>();
  let current: string | null = null;
  let section = '';
  for (const line of text.split('\n')) {
    const flag = /^\s{2}--([a-z0-9-]+)\b/.exec(line)?.[1];
    if (flag) {
      current = flag;
      flags.set(flag, `[${section}]\n${line}`);
    } else if (current && /^\s{4}\S/.test(line)) flags.set(current, `${flags.get(current) ?? ''}\n${line}`);
    else {
      current = null;
      if (/^\S.*:\s*$/.test(line)) section = line;
    }
  }
  return flags;
}

/**
 * Whether the help calls the flag itself deprecated: in its text ("Deprecated in v3.6", "Will be
 * deprecated in v3.5") or by its section ("TO BE DEPRECATED:"); a value being deprecated ("'capnslog'
 * will be deprecated") is not the flag.
 */
function deprecatedInHelp(help: string): boolean {
  return help
    .split('\n')
    .some((line) => /deprecat/i.test(line) && !/'[^']+' (will be |is )?deprecated/i.test(line));
}

testEachRelease('every setting etcd-gen emits is a current flag of the etcd binary', 'every', { timeout: 60_000 }, async (t, release) => {
  if (!release && !needTools(t, ['etcd'])) return;
  const etcd = release ? path.join(release.bin, 'etcd') : 'etcd';
  const version = release?.version ?? /etcd Version: (\S+)/.exec(run(etcd, ['--version']).stdout)?.[1];
  assert.ok(version, 'etcd --version names its version');
  const help = run(etcd, ['--help']);
  const flags = helpFlags(help.stdout + help.stderr);
  assert.ok(flags.size > 60, `etcd ${version} --help lists its flags (${flags.size})`);
  const { out, result } = await buildInto(t, `name: matrix\netcd: { version: "${version}" }\nnodes:\n  - { name: a, host: 10.0.0.11 }\n  - { name: b, host: 10.0.0.12 }\n  - { name: c, host: 10.0.0.13 }\n`);
  const envToFlag = new Map([...flags.keys()].map((f) => [envName(f), f]));
  const conf = readFileSync(path.join(out, result.model.members[0]?.overlayDir ?? '', result.model.paths.conf), 'utf8');
  const names = conf.split('\n').filter((l) => /^ETCD_[A-Z0-9_]+=/.test(l)).map((l) => l.slice(0, l.indexOf('=')));
  assert.ok(names.length > 15, `etcd.conf sets ${names.length} variables`);
  for (const name of names) {
    const flag = envToFlag.get(name);
    assert.ok(flag, `etcd ${version} has no flag for ${name}`);
    assert.ok(!deprecatedInHelp(flags.get(flag) ?? ''), `etcd ${version} calls --${flag} deprecated:\n${flags.get(flag)}`);
  }
  // Feature gates: each one named must be listed by this binary.
  const gates = /^ETCD_FEATURE_GATES='?([^'\n]*)'?$/m.exec(conf)?.[1];
  if (gates) {
    for (const gate of gates.split(',').map((kv) => kv.split('=')[0] ?? '')) {
      assert.match(flags.get('feature-gates') ?? '', new RegExp(`\\b${gate}=true\\|false`), `etcd ${version} has no feature gate ${gate}`);
    }
  }
});

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
