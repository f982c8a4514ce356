/**
 * What each etcd release of the test matrix says about itself, held against what etcd-gen emits for it:
 * every ETCD_* variable of a member's etcd.conf must be a flag of that very binary (`etcd --help`) that
 * its help does not call deprecated; and etcd-gen must accept the release (it exists, it parses).
 * The live start of each release (no "unrecognized environment variable" in its log) is in
 * test/live/e2e.test.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { envName } from '../../src/etcd/flags.js';
import { deprecatedInHelp, helpFlags } from '../harness/etcd-help.js';
import { testEachRelease } from '../harness/releases.js';
import { buildInto, needTools, run } from '../helpers.js';

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
