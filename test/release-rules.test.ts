/**
 * The release rules of docs/releases.md, one test (or more) a rule: a patch newer than the table, what
 * `npm run releases:check` makes of the proxy's answer, the 3.5 -> 3.6 minimum, the v2 deprecation flag,
 * Kubernetes versions, the known-bad releases and the quick start. Hermetic: no network, no etcd.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { formatDiagnostic } from '../src/diagnostics.js';
import { parseClusterSource } from '../src/input/load.js';
import { validateCluster } from '../src/input/validate.js';
import { minorMinimum, releaseRefusal, V2STORE_CHECK_SINCE } from '../src/etcd/upgrade.js';
import { buildInto, examplesDir, minimalCluster, run, runInProcess, tempDir } from './helpers.js';
import { DEBIAN_ETCD, DEFAULT_KUBERNETES_VERSION, KUBERNETES_RELEASES, kubeadmApiStatus, kubernetesRelease } from '../src/etcd/kubernetes.js';
import { beyondTable, ISSUE_CATEGORIES, issuesOf, KNOWN_ISSUES, newestKnownOf, newestOfLine, parseRelease, RELEASE_LINES, releaseExists, releaseLine, RUNBOOK_ACTIONS } from '../src/etcd/releases.js';
import { clusterSchema } from '../src/resources.js';
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

describe('Kubernetes (src/etcd/kubernetes.ts)', () => {
  const lab = (k8s: string | null, version = DEBIAN_ETCD.trixie ?? '3.5.16') =>
    cluster(version, '  install: { from: package }\n', k8s ? `kubernetes: { version: "${k8s}" }\npaths: { bin: /usr/bin }\n` : 'paths: { bin: /usr/bin }\n');
  it('knows 1.35, 1.36 and 1.37 with their source, and defaults to 1.37 as the schema says', () => {
    assert.deepEqual(KUBERNETES_RELEASES.map((k) => [k.version, k.minExternalEtcd, k.defaultEtcd]), [['1.35', '3.5.24', '3.6.6'], ['1.36', '3.5.24', '3.6.8'], ['1.37', '3.5.24', '3.7.0']]);
    for (const k of KUBERNETES_RELEASES) assert.match(k.source, /^k8s\.io\/kubernetes v1\.\d+\.\d+ cmd\/kubeadm\/app\/constants\/constants\.go/);
    const schema = clusterSchema() as { properties: { kubernetes: { properties: { version: { default: string; enum: string[] } } } } };
    assert.equal(schema.properties.kubernetes.properties.version.default, DEFAULT_KUBERNETES_VERSION);
    assert.deepEqual(schema.properties.kubernetes.properties.version.enum, KUBERNETES_RELEASES.map((k) => k.version));
  });
  it('refuses the package route below kubeadm\'s MinExternalEtcdVersion, naming the tarball route; warns when kubernetes.version is the default', () => {
    for (const k8s of ['1.35', '1.36', '1.37']) {
      for (const debian of Object.values(DEBIAN_ETCD)) {
        const e = errors(lab(k8s, debian)).join('\n');
        assert.match(e, new RegExp(`etcd\\.install\\.from: etcd ${debian.replace(/\./g, '\\.')} from the distribution's packages is below kubeadm ${k8s.replace('.', '\\.')}'s MinExternalEtcdVersion 3\\.5\\.24.*install etcd from the release tarball`), `${k8s} ${debian}`);
      }
    }
    assert.deepEqual(errors(lab(null)), []);
    assert.ok(warnings(lab(null)).some((w) => /below kubeadm's MinExternalEtcdVersion/.test(w)));
    assert.deepEqual(errors(lab('1.37', '3.5.24')), []);
    assert.ok(!warnings(lab('1.37', '3.5.24')).some((w) => /MinExternalEtcdVersion/.test(w)));
  });
  it('refuses kubeadm.k8s.io/v1beta3 with Kubernetes 1.37 and warns on 1.35 and 1.36; v1beta4 is accepted everywhere', () => {
    const k = (v: string) => kubernetesRelease(v) ?? assert.fail(v);
    assert.equal(kubeadmApiStatus('kubeadm.k8s.io/v1beta3', k('1.37')), 'refused');
    assert.equal(kubeadmApiStatus('kubeadm.k8s.io/v1beta3', k('1.36')), 'deprecated');
    assert.equal(kubeadmApiStatus('kubeadm.k8s.io/v1beta4', k('1.37')), 'accepted');
    const api = (k8s: string | null, a: string) => cluster('3.7.4', '', `kubernetes: { ${k8s ? `version: "${k8s}", ` : ''}kubeadmApiVersion: ${a} }\n`);
    assert.match(errors(api('1.37', 'kubeadm.k8s.io/v1beta3')).join('\n'), /kubeadmApiVersion: kubeadm 1\.37 refuses kubeadm\.k8s\.io\/v1beta3/);
    assert.match(errors(api(null, 'kubeadm.k8s.io/v1beta3')).join('\n'), /kubernetes\.version is 1\.37 by default/);
    for (const k8s of ['1.35', '1.36']) {
      assert.deepEqual(errors(api(k8s, 'kubeadm.k8s.io/v1beta3')), [], k8s);
      assert.ok(warnings(api(k8s, 'kubeadm.k8s.io/v1beta3')).some((w) => /v1beta3 is deprecated in kubeadm 1\.3[56].*refused from 1\.37/.test(w)), k8s);
      assert.deepEqual(diagnostics(api(k8s, 'kubeadm.k8s.io/v1beta4')), [], k8s);
    }
  });
  it('init never offers 3.4', async (t) => {
    const dir = tempDir(t);
    const r = await runInProcess(['init', '--etcd-version', '3.4.23', '--node', 'a=10.1.0.1'], { cwd: dir });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /etcd 3\.4\.23 is out of upstream support: init starts new clusters on 3\.5 or later/);
    const ok = await runInProcess(['init', '--etcd-version', '3.5.36', '--node', 'a=10.1.0.1'], { cwd: dir });
    assert.equal(ok.status, 0, ok.stderr);
  });
});

describe('known-bad releases (KNOWN_ISSUES)', () => {
  it('each entry has a category, a range inside known lines, a fix past it, a source and its actions at risk from the enums', () => {
    for (const i of KNOWN_ISSUES) {
      assert.ok((ISSUE_CATEGORIES as readonly string[]).includes(i.category), i.id);
      for (const a of i.atRisk) assert.ok((RUNBOOK_ACTIONS as readonly string[]).includes(a), `${i.id}: ${a}`);
      const [from, to, fixed] = [i.from, i.to, i.fixedIn].map(parseRelease);
      assert.ok(from && to && fixed, i.id);
      assert.ok(issuesOf(from, '1.37').includes(i) && issuesOf(to, '1.37').includes(i) && !issuesOf(fixed, '1.37').includes(i), i.id);
      assert.match(i.source, /CHANGELOG|k8s\.io|Kubernetes docs|etcd\.io/, i.id);
    }
    assert.equal(new Set(KNOWN_ISSUES.map((i) => i.id)).size, KNOWN_ISSUES.length, 'ids are unique');
    for (const c of ISSUE_CATEGORIES) assert.ok(KNOWN_ISSUES.some((i) => i.category === c), `a seed entry of ${c}`);
    for (const a of RUNBOOK_ACTIONS) assert.ok(KNOWN_ISSUES.some((i) => i.atRisk.includes(a)), `an entry that puts ${a} at risk`);
  });
  it('seeds kubeadm 1.37\'s floor, kube-apiserver 1.37\'s consistent reads and the 3.6 guide\'s minimums', () => {
    const byId = (id: string) => KNOWN_ISSUES.find((i) => i.id === id) ?? assert.fail(id);
    assert.deepEqual([byId('kubeadm-min-external-etcd').fixedIn, byId('apiserver-consistent-reads').fixedIn], ['3.5.24', '3.5.13']);
    assert.deepEqual(['too-many-learners', 'zombie-members', 'v2store-wal-check'].map((id) => byId(id).fixedIn), ['3.5.20', '3.5.26', '3.5.32']);
    // kube-apiserver 1.37 keeps consistent reads from cache on 3.4.31+ of 3.4 (its rule names 3.4.31 and 3.5.13).
    assert.ok(issuesOf({ minor: 5, patch: 12 }, '1.37').some((i) => i.id === 'apiserver-consistent-reads'));
    assert.ok(!issuesOf({ minor: 5, patch: 12 }, '1.36').some((i) => i.id === 'apiserver-consistent-reads'), 'checked for 1.37 only');
    assert.ok(!issuesOf({ minor: 5, patch: 12 }).some((i) => i.kubernetesFrom !== undefined), 'without a Kubernetes, no Kubernetes entry');
  });
  it('names the newest patch of the line that has the fix (3.4.23 -> the newest 3.5, not 3.4.45)', () => {
    const w = warnings(cluster('3.4.23')).join('\n');
    assert.match(w, /etcd 3\.4\.23 is below kubeadm's MinExternalEtcdVersion .*use 3\.5\.24 or later, best the newest patch 3\.5\.36/);
  });
  it('says that a restore on 3.4 cannot bump the revision', () => {
    const w = warnings(cluster('3.4.23')).join('\n');
    assert.match(w, /etcd 3\.4\.23 restores a snapshot without bumping the revision/);
    assert.ok(!warnings(cluster('3.5.36')).some((m) => /without bumping the revision/.test(m)));
  });
});

describe('the examples', () => {
  it('the quick start (examples/three-node) pins the newest 3.7 patch and builds with 0 diagnostics', () => {
    const source = readFileSync(path.join(examplesDir, 'three-node', 'cluster.yaml'), 'utf8');
    const line = releaseLine(7) ?? assert.fail('no 3.7 line');
    assert.match(source, new RegExp(`version: "${newestOfLine(line).replace(/\./g, '\\.')}"`), 'move examples/three-node to the newest 3.7 patch with the table');
    assert.deepEqual(diagnostics(source), []);
  });
  it('the seed\'s example (examples/seed-rsa4096) keeps 3.5.13 and earns its warnings, no error', () => {
    const source = readFileSync(path.join(examplesDir, 'seed-rsa4096', 'cluster.yaml'), 'utf8');
    assert.match(source, /version: "3\.5\.13"/);
    assert.deepEqual(errors(source), []);
    const w = warnings(source).join('\n');
    for (const fixed of ['3.5.14', '3.5.20', '3.5.23', '3.5.24', '3.5.26', '3.5.30', '3.5.31', '3.5.32']) assert.match(w, new RegExp(`use ${fixed.replace(/\./g, '\\.')} or later`), fixed);
  });
});

describe('runbooks warn before an action a known issue of the release puts at risk (cluster.sh RELEASE_RISKS, lib.sh release_risk)', () => {
  const libSays = (out: string, ...actions: string[]) => {
    const r = run('bash', ['-c', `. "${path.join(out, 'runbooks', 'lib.sh')}" && release_risk "$@"`, 'bash', ...actions], { env: { ETCDCTL_BIN: 'true', ETCD_GEN_REMOTE: 'true' } });
    assert.equal(r.status, 0, r.stderr);
    return r.stderr;
  };
  const at = (version: string) => minimalCluster.replace('"3.5.13"', `"${version}"`);
  for (const issue of KNOWN_ISSUES) {
    for (const action of issue.atRisk) {
      it(`${issue.id} (${issue.from} to ${issue.to}): ${action} warns on ${issue.to}, not on ${issue.fixedIn}`, async (t) => {
        const { out } = await buildInto(t, at(issue.to));
        const said = libSays(out, action);
        assert.match(said, new RegExp(`warning: etcd ${issue.to.replace(/\./g, '\\.')} has known issues \\([^)]*\\b${issue.id.replace(/\./g, '\\.')}\\b[^)]*\\) that put ${action} at risk: move to etcd 3\\.\\d+\\.\\d+ or later first`));
        const moveTo = parseRelease(/move to etcd (3\.\d+\.\d+)/.exec(said)?.[1] ?? '') ?? assert.fail(said);
        const fixed = parseRelease(issue.fixedIn) ?? assert.fail(issue.fixedIn);
        assert.ok(moveTo.minor > fixed.minor || (moveTo.minor === fixed.minor && moveTo.patch >= fixed.patch), `${said} names a release at or past ${issue.fixedIn}`);
        assert.equal(libSays(out, 'no-such-action'), '', 'an action no issue names says nothing');
        const { out: fixedOut } = await buildInto(t, at(issue.fixedIn));
        assert.doesNotMatch(libSays(fixedOut, action), new RegExp(`\\b${issue.id.replace(/\./g, '\\.')}\\b`), `${issue.fixedIn} fixes ${issue.id}`);
      });
    }
  }
  it('the newest patches of 3.5, 3.6 and 3.7 carry no risk', async (t) => {
    for (const v of ['3.5.36', '3.6.17', '3.7.4']) {
      const { out } = await buildInto(t, at(v));
      assert.match(readFileSync(path.join(out, 'runbooks', 'cluster.sh'), 'utf8'), /^RELEASE_RISKS=\(\)$/m, v);
      assert.equal(libSays(out, ...RUNBOOK_ACTIONS), '', v);
    }
  });
  it('each runbook says so before its first change: the release_risk line comes before its first confirm', async (t) => {
    const { out } = await buildInto(t, at('3.5.13'));
    for (const [runbook, actions] of [['defrag.sh', 'defrag'], ['restore.sh', 'restore'], ['add-member.sh', 'learner-promotion member-add-with-member-down']] as const) {
      const text = readFileSync(path.join(out, 'runbooks', runbook), 'utf8');
      const call = text.indexOf(`\nrelease_risk ${actions}\n`);
      assert.ok(call > 0, `${runbook} calls release_risk ${actions}`);
      assert.ok(call < text.indexOf('\nconfirm '), `${runbook}: before its confirm, so before any change`);
    }
    assert.match(readFileSync(path.join(out, 'runbooks', 'cluster.sh'), 'utf8'), /^RELEASE_RISKS=\(defrag member-add-with-member-down learner-promotion\)$/m, '3.5.13: no restore risk, it bumps the revision');
  });
});
