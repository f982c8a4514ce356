/**
 * The release rules of docs/releases.md, one test (or more) a rule: a patch newer than the table, what
 * `npm run releases:check` makes of the proxy's answer, the 3.5 -> 3.6 minimum, the v2 deprecation flag,
 * Kubernetes versions, the known-bad releases and the quick start. Hermetic: no network, no etcd.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { beyondTable, newestKnownOf, RELEASE_LINES, releaseExists } from '../src/etcd/releases.js';
import { formatDiagnostic } from '../src/diagnostics.js';
import { parseClusterSource } from '../src/input/load.js';
import { validateCluster } from '../src/input/validate.js';
import { minorMinimum, releaseRefusal, V2STORE_CHECK_SINCE } from '../src/etcd/upgrade.js';
import { buildInto, minimalCluster, run } from './helpers.js';
import { checkLines, describe as describeLine, newestServed } from '../scripts/releases-check.js';

const cluster = (version: string, etcdFields = '', top = ''): string =>
  `name: test\n${top}etcd:\n  version: "${version}"\n${etcdFields}nodes:\n  - { name: etcd1, host: 10.0.0.11 }\n  - { name: etcd2, host: 10.0.0.12 }\n  - { name: etcd3, host: 10.0.0.13 }\n`;

function diagnostics(source: string): { severity: string; text: string }[] {
  return validateCluster(parseClusterSource(source, 'cluster.yaml')).diagnostics.map((d) => ({ severity: d.severity, text: formatDiagnostic(d) }));
}
const errors = (source: string) => diagnostics(source).filter((d) => d.severity === 'error').map((d) => d.text);
const warnings = (source: string) => diagnostics(source).filter((d) => d.severity === 'warning').map((d) => d.text);

describe('a patch newer than the table', () => {
  it('builds with a warning naming the newest known patch, and its extraFlags are checked against that patch', () => {
    assert.equal(beyondTable({ minor: 7, patch: 5 }), true);
    assert.equal(beyondTable({ minor: 7, patch: 4 }), false);
    assert.equal(releaseExists({ minor: 7, patch: 5 }), false);
    assert.deepEqual(newestKnownOf({ minor: 7, patch: 9 }), { minor: 7, patch: 4 });
    assert.deepEqual(errors(cluster('3.7.5')), []);
    const w = warnings(cluster('3.7.5'));
    assert.ok(w.some((m) => /^cluster\.yaml:3:12: warning: \$\.etcd\.version: etcd 3\.7\.5 is newer than the newest 3\.7 patch etcd-gen knows \(3\.7\.4\).*checked against the flags of 3\.7\.4/.test(m)), w.join('\n'));
    // A flag value 3.7.4 refuses, and a flag 3.7.4 lacks, are refused on 3.7.5 as well.
    const bad = errors(cluster('3.6.30', '  extraFlags: { max-txn-ops: abc, no-such-flag: 1 }\n')).join('\n');
    assert.match(bad, /--max-txn-ops takes a whole number of 0 or more, and etcd 3\.6\.17 refuses "abc"/);
    assert.match(bad, /etcd 3\.6\.17 has no flag --no-such-flag/);
  });
  it('does not warn on a patch the table knows', () => {
    for (const line of RELEASE_LINES.filter((l) => l.endOfLife === null)) {
      const w = warnings(cluster(`3.${line.minor}.${line.newestPatch}`));
      assert.ok(!w.some((m) => /is newer than the newest/.test(m)), w.join('\n'));
    }
  });
});

describe('npm run releases:check (scripts/releases-check.ts), on a given answer of the proxy', () => {
  it('takes the newest stable patch per line and says which lines are behind', () => {
    const served = newestServed(['v3.5.36', 'v3.5.4', 'v3.6.18', 'v3.7.0-beta.0', 'v3.7.4', 'v3.8.0-alpha.0', 'junk']);
    assert.deepEqual([...served.entries()].sort(), [[5, 36], [6, 18], [7, 4]]);
    const checks = checkLines(RELEASE_LINES, served);
    assert.deepEqual(checks.map((c) => [c.minor, c.table, c.served]), [[5, 36, 36], [6, 17, 18], [7, 4, 4]]);
    assert.match(describeLine(checks[1]!), /^3\.6: BEHIND: the proxy serves 3\.6\.18, the table stops at 3\.6\.17/);
    assert.match(describeLine(checks[0]!), /^3\.5: up to date at 3\.5\.36$/);
    assert.match(describeLine({ minor: 7, table: 4, served: null }), /cannot tell/);
  });
});

describe('the 3.5 -> 3.6 minimum (etcd 3.6 upgrade guide, 2026-08: 3.5.32)', () => {
  it('refuses 3.5.x (x < 32) -> 3.6.y, naming the path through the newest 3.5 patch', () => {
    assert.equal(minorMinimum(6)?.minimum, '3.5.32');
    assert.equal(V2STORE_CHECK_SINCE, '3.5.32');
    for (const from of ['3.5.13', '3.5.26', '3.5.30', '3.5.31']) {
      const r = releaseRefusal(from, '3.6.17');
      assert.equal(r?.kind, 'below-minimum', from);
      assert.deepEqual(r?.path.map((s) => s.to), ['3.5.36', '3.6.17'], from);
    }
    assert.equal(releaseRefusal('3.5.32', '3.6.17'), null);
    assert.equal(releaseRefusal('3.5.36', '3.6.0'), null);
  });
  it('accepts --v2-deprecation=write-only-skip-check only through extraFlags, with a warning naming the guide', () => {
    const source = cluster('3.5.36', '  extraFlags: { v2-deprecation: write-only-skip-check }\n');
    assert.deepEqual(errors(source), []);
    assert.ok(warnings(source).some((w) => /v2-deprecation: --v2-deprecation=write-only-skip-check .*own risk \(https:\/\/etcd\.io\/docs\/v3\.6\/upgrades\/upgrade_3_6\/#v2-store\)/.test(w)), warnings(source).join('\n'));
    assert.ok(!warnings(cluster('3.5.36', '  extraFlags: { v2-deprecation: write-only }\n')).some((w) => /own risk/.test(w)));
  });
});

/** Every file under DIR, as paths relative to it. */
function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(path.join(dir, n)).isDirectory() ? filesUnder(path.join(dir, n), `${prefix}${n}/`) : [`${prefix}${n}`]));
}

const withBackup = `${minimalCluster}backup: { enabled: true }\n`;

describe('etcdctl without ETCDCTL_API, and without the caller\'s ETCDCTL_* variables', () => {
  it('no generated file sets ETCDCTL_API', async (t) => {
    const { out } = await buildInto(t, withBackup);
    const files = filesUnder(out).filter((f) => !f.includes('pki/'));
    assert.ok(files.length > 20);
    for (const f of files) assert.doesNotMatch(readFileSync(path.join(out, f), 'utf8'), /ETCDCTL_API=|export ETCDCTL_API/, f);
  });
  it('the aliases and lib.sh hand etcdctl no ETCDCTL_* variable of the caller\'s shell', async (t) => {
    const { out } = await buildInto(t, minimalCluster);
    const stub = path.join(out, '..', 'etcdctl-env');
    const envFile = path.join(out, '..', 'env-seen');
    writeFileSync(stub, `#!/bin/sh\nenv | grep '^ETCDCTL_' > ${JSON.stringify(envFile)}; echo 'etcdctl version: 3.7.4'\n`, { mode: 0o755 });
    const inherited = { ETCDCTL_BIN: stub, ETCDCTL_ENDPOINTS: 'https://elsewhere:2379', ETCDCTL_API: '3', ETCDCTL_INSECURE_SKIP_TLS_VERIFY: 'true', ETCDUTL_WRITE_OUT: 'json', ETCD_GEN_REMOTE: 'true' };
    const alias = run('bash', ['-c', `. "${path.join(out, 'admin', 'aliases.sh')}" && etcdctl_cluster get k`], { env: inherited });
    assert.equal(alias.status, 0, alias.stderr);
    assert.equal(readFileSync(envFile, 'utf8'), '');
    const lib = run('bash', ['-c', `. "${path.join(out, 'runbooks', 'lib.sh')}" && ectl "$ENDPOINTS" get k`], { env: inherited });
    assert.equal(lib.status, 0, lib.stderr);
    assert.equal(readFileSync(envFile, 'utf8'), '');
  });
  it('the backup script unsets every ETCDCTL_* and ETCDUTL_* it does not set itself', async (t) => {
    const { out } = await buildInto(t, withBackup);
    const script = filesUnder(out).find((f) => f.endsWith('sbin/etcd-backup')) ?? assert.fail('no etcd-backup');
    assert.match(readFileSync(path.join(out, script), 'utf8'), /unset "\$v"; done < <\(compgen -e \| grep -E '\^\(ETCDCTL\|ETCDUTL\)_'/);
  });
  it('the runbooks refuse an etcdctl older than 3.4 before they talk to the cluster, and take 3.4', async (t) => {
    const { out } = await buildInto(t, minimalCluster);
    const ctl = (version: string) => {
      const stub = path.join(out, '..', `etcdctl-${version}`);
      writeFileSync(stub, `#!/bin/sh\n[ "$1" = --version ] && { echo 'etcdctl version: ${version}'; echo 'API version: 2'; exit 0; }\necho "No help topic for '$1'" >&2; exit 3\n`, { mode: 0o755 });
      const v3 = path.join(out, '..', `etcdctl3-${version}`);
      writeFileSync(v3, `#!/bin/sh\necho 'etcdctl version: ${version}'; echo 'API version: 3.4'\n`, { mode: 0o755 });
      return version.startsWith('3.3') ? stub : v3;
    };
    const check = (bin: string) => run('bash', ['-c', `. "${path.join(out, 'runbooks', 'lib.sh')}" && require_admin_pki && echo passed`], { env: { ETCDCTL_BIN: bin, ETCD_GEN_REMOTE: 'true' } });
    const old = check(ctl('3.3.27'));
    assert.equal(old.status, 2, old.stderr);
    assert.match(old.stderr, /is etcdctl 3\.3\.27: the runbooks need etcdctl 3\.4 or later/);
    const ok = check(ctl('3.4.23'));
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /passed/);
  });
});
