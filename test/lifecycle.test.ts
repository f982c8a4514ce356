/** The GitOps lifecycle: drift checks, all-or-nothing writes, renewal, certificate reports, membership plans. */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { buildModel } from '../src/model/build.js';
import { formatPlan, planMembership } from '../src/model/membership.js';
import { minimalCluster, readTree, runInProcess, tempDir } from './helpers.js';
import { type ManifestMember } from '../src/output/files.js';

function project(t: TestContext, source = minimalCluster) {
  const dir = tempDir(t);
  writeFileSync(path.join(dir, 'cluster.yaml'), source);
  const cli = (...args: string[]) => runInProcess(args, { cwd: dir });
  return { dir, cli, out: path.join(dir, 'out') };
}

describe('build --check', () => {
  it('exits 0 when the output is up to date and 1 with a list of differences when not, writing nothing', async (t) => {
    const p = project(t);
    assert.equal((await p.cli('build', 'cluster.yaml', '-o', 'out')).status, 0);
    const clean = await p.cli('build', 'cluster.yaml', '-o', 'out', '--check');
    assert.equal(clean.status, 0, clean.stderr);
    assert.match(clean.stderr, /out is up to date with cluster\.yaml/);

    writeFileSync(path.join(p.out, 'admin', 'aliases.sh'), 'tampered\n');
    rmSync(path.join(p.out, 'kubernetes', 'external-etcd.yaml'));
    writeFileSync(path.join(p.dir, 'cluster.yaml'), minimalCluster.replace('etcd3, host: 10.0.0.13 }', 'etcd3, host: 10.0.0.13 }\n  - { name: etcd4, host: 10.0.0.14 }\n  - { name: etcd5, host: 10.0.0.15 }'));
    const before = readTree(p.dir);
    const stale = (await p.cli('build', 'cluster.yaml', '-o', 'out', '--check'));
    assert.equal(stale.status, 1, stale.stderr);
    assert.match(stale.stderr, /out is out of date; run etcd-gen build/);
    assert.match(stale.stderr, /^ {2}added {4}kubernetes\/external-etcd\.yaml$/m);
    assert.match(stale.stderr, /^ {2}added {4}nodes\/etcd5\/root\/etc\/etcd\/etcd\.conf$/m);
    assert.match(stale.stderr, /^ {2}changed {2}admin\/aliases\.sh$/m);
    assert.match(stale.stderr, /^ {2}changed {2}nodes\/etcd1\/root\/etc\/etcd\/etcd\.conf$/m, 'the initial cluster changed');
    assert.match(stale.stderr, /would have issued nodes\/etcd4\/server/);
    assert.doesNotMatch(stale.stderr, /PRIVATE KEY/);
    assert.deepEqual(readTree(p.dir), before, '--check wrote nothing, not even secrets');
  });

  it('notices a changed mode and a file that should be gone', async (t) => {
    const p = project(t, `${minimalCluster}  - { name: etcd4, host: 10.0.0.14 }\n  - { name: etcd5, host: 10.0.0.15 }\n`);
    assert.equal((await p.cli('build', 'cluster.yaml', '-o', 'out')).status, 0);
    writeFileSync(path.join(p.dir, 'cluster.yaml'), minimalCluster);
    const stale = (await p.cli('build', 'cluster.yaml', '-o', 'out', '--check'));
    assert.equal(stale.status, 1);
    assert.match(stale.stderr, /^ {2}removed {2}nodes\/etcd5\/root\/etc\/etcd\/pki\/peer\.key$/m);
  });
});

describe('writes are all or nothing', () => {
  it('a build that fails halfway leaves the output and the secrets as they were', async (t) => {
    const p = project(t);
    const secrets = path.join(p.dir, 'secrets');
    assert.equal((await p.cli('build', 'cluster.yaml', '-o', 'out')).status, 0);
    const before = readTree(p.dir);
    // A new member whose output directory cannot be created (a file stands where its directory must go):
    // its secrets and every other changed file are staged first, then the build fails.
    writeFileSync(path.join(p.dir, 'cluster.yaml'), `${minimalCluster}  - { name: etcd4, host: 10.0.0.14 }\n  - { name: etcd5, host: 10.0.0.15 }\n`);
    const withNew = readTree(p.dir);
    mkdirSync(path.join(p.out, 'nodes', 'etcd4'), { recursive: true });
    writeFileSync(path.join(p.out, 'nodes', 'etcd4', 'root'), 'in the way\n');
    const failed = (await p.cli('build', 'cluster.yaml', '-o', 'out'));
    assert.notEqual(failed.status, 0);
    assert.match(failed.stderr, /nothing was written/);
    rmSync(path.join(p.out, 'nodes', 'etcd4'), { recursive: true });
    const after = readTree(p.dir);
    assert.deepEqual([...after.keys()].filter((f) => f.includes('.tmp')), [], 'no temporary files left');
    assert.deepEqual(after, withNew, 'output and secrets unchanged');
    assert.equal(readFileSync(path.join(secrets, 'ca.key'), 'utf8'), before.get('secrets/ca.key')?.contents);
  });
});

describe('build --renew', () => {
  it('reissues the named leaf only, or every leaf, never the CA', async (t) => {
    const p = project(t);
    assert.equal((await p.cli('build', 'cluster.yaml', '-o', 'out')).status, 0);
    const before = readTree(p.out);
    const one = (await p.cli('build', 'cluster.yaml', '-o', 'out', '--renew', 'nodes/etcd2/peer'));
    assert.equal(one.status, 0, one.stderr);
    assert.match(one.stderr, /^etcd-gen: reissued nodes\/etcd2\/peer: renewal requested$/m);
    const after = readTree(p.out);
    const changedCerts = [...after].filter(([f, v]) => f.endsWith('.crt') && before.get(f)?.contents !== v.contents).map(([f]) => f);
    assert.deepEqual(changedCerts, ['nodes/etcd2/root/etc/etcd/pki/peer.crt']);
    const all = (await p.cli('build', 'cluster.yaml', '-o', 'out', '--renew'));
    assert.equal(all.status, 0, all.stderr);
    assert.equal((all.stderr.match(/reissued .*: renewal requested/g) ?? []).length, 8);
    assert.equal(readTree(p.out).get('admin/pki/ca.crt')?.contents, before.get('admin/pki/ca.crt')?.contents);
    const bad = (await p.cli('build', 'cluster.yaml', '-o', 'out', '--renew', 'nodes/etcd9/server'));
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /no certificate "nodes\/etcd9\/server" to renew/);
  });
});

describe('certs', () => {
  it('lists every certificate, and exits 1 with JSON when one is inside the renewal window', async (t) => {
    const p = project(t, minimalCluster + 'tls: { certDays: 20, renewBeforeDays: 10 }\n');
    assert.equal((await p.cli('build', 'cluster.yaml', '-o', 'out')).status, 0);
    const table = (await p.cli('certs', 'cluster.yaml'));
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /^CERTIFICATE\s+SUBJECT\s+KEY\s+EXPIRES\s+DAYS\s+STATUS\s+NAMES$/m);
    assert.match(table.stdout, /^nodes\/etcd2\/server\s+CN=etcd2\s+ecdsa-p256\s+\d{4}-\d\d-\d\d\s+(19|20)\s+ok\s+localhost,10\.0\.0\.12,127\.0\.0\.1,::1$/m);
    // A policy that puts every leaf inside the window: the same certificates now need renewal.
    writeFileSync(path.join(p.dir, 'cluster.yaml'), minimalCluster + 'tls: { certDays: 30, renewBeforeDays: 25 }\n');
    const json = (await p.cli('certs', 'cluster.yaml', '--json'));
    assert.equal(json.status, 1);
    const report = JSON.parse(json.stdout) as { certificates: { id: string; status: string; daysLeft: number }[] };
    assert.equal(report.certificates.length, 9);
    assert.ok(report.certificates.filter((c) => c.id !== 'ca').every((c) => c.status === 'renew' && c.daysLeft < 25));
    assert.equal(report.certificates.find((c) => c.id === 'ca')?.status, 'ok');
  });

  it('reports missing certificates before the first build', async (t) => {
    const p = project(t);
    const r = (await p.cli('certs', 'cluster.yaml', '--json'));
    assert.equal(r.status, 1);
    assert.ok((JSON.parse(r.stdout) as { certificates: { status: string }[] }).certificates.every((c) => c.status === 'missing'));
  });
});

describe('plan', () => {
  const three: ManifestMember[] = ['etcd1', 'etcd2', 'etcd3'].map((name, i) => ({
    name,
    host: `10.0.0.1${i + 1}`,
    peerUrl: `https://10.0.0.1${i + 1}:2380`,
    clientUrl: `https://10.0.0.1${i + 1}:2379`,
  }));
  const model = (nodes: { name: string; host: string }[]) => buildModel({ name: 'k8s1', etcd: { version: '3.5.13' }, nodes }, 'cluster.yaml');

  it('grows 3 to 5 by adding one learner at a time', async () => {
    const plan = planMembership(three, model([...three.map((m) => ({ name: m.name, host: m.host })), { name: 'etcd4', host: '10.0.0.14' }, { name: 'etcd5', host: '10.0.0.15' }]));
    assert.deepEqual(plan.steps.map((s) => `${s.runbook} -> ${s.membersAfter}/${s.quorumAfter}`), [
      'runbooks/add-member.sh etcd4 -> 4/3',
      'runbooks/add-member.sh etcd5 -> 5/3',
    ]);
    assert.deepEqual(plan.warnings, []);
  });

  it('shrinks 3 to 2 by removing last, and warns about the even count', async () => {
    const plan = planMembership(three, model(three.slice(0, 2).map((m) => ({ name: m.name, host: m.host }))));
    assert.deepEqual(plan.steps.map((s) => `${s.action} ${s.member} -> ${s.membersAfter}/${s.quorumAfter}`), ['remove etcd3 -> 2/2']);
    assert.match(plan.warnings.join('\n'), /2 members tolerate no more failures than 1/);
  });

  it('orders adds, then moves, then removals', async () => {
    const plan = planMembership(three, model([{ name: 'etcd1', host: '10.0.0.11' }, { name: 'etcd2', host: '10.0.0.22' }, { name: 'etcd4', host: '10.0.0.14' }]));
    assert.deepEqual(plan.steps.map((s) => `${s.action} ${s.member}`), ['add etcd4', 'move etcd2', 'remove etcd3']);
    assert.match(formatPlan(plan, 'k8s1'), /^ {2}2\. runbooks\/replace-member\.sh etcd2$/m);
  });

  it('runs from the CLI against the existing output, exit 1 when there are steps', async (t) => {
    const p = project(t);
    assert.equal((await p.cli('build', 'cluster.yaml', '-o', 'out')).status, 0);
    const same = (await p.cli('plan', 'cluster.yaml', '-o', 'out'));
    assert.equal(same.status, 0, same.stderr);
    assert.match(same.stdout, /membership unchanged \(3 members\)/);
    writeFileSync(path.join(p.dir, 'cluster.yaml'), `${minimalCluster}  - { name: etcd4, host: 10.0.0.14 }\n  - { name: etcd5, host: 10.0.0.15 }\n`);
    const grow = (await p.cli('plan', 'cluster.yaml', '-o', 'out'));
    assert.equal(grow.status, 1);
    assert.match(grow.stdout, /cluster test: 3 -> 5 members, 2 step\(s\)/);
  });
});

describe('what the deployed cluster is', () => {
  it('refuses changes a rolling install cannot carry (peer CN, token, ports, a skipped minor release), pointing at the field, and reads manifests without an identity record', async (t) => {
    const p = project(t);
    assert.equal((await p.cli('build', 'cluster.yaml', '-o', 'out')).status, 0);
    const manifestPath = path.join(p.out, 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { identity?: { token: string; peerCommonName: string } };
    assert.equal(manifest.identity?.peerCommonName, 'test-etcd-peer');
    const token = manifest.identity?.token ?? '';
    // A manifest of the build before this record: the CN comes from its cluster name, the token from etcd.conf.
    delete manifest.identity;
    writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
    const before = readTree(p.out);
    const edit = (text: string) => writeFileSync(path.join(p.dir, 'cluster.yaml'), text);

    edit(minimalCluster.replace('name: test', 'name: test2'));
    const renamed = (await p.cli('build', 'cluster.yaml', '-o', 'out'));
    assert.equal(renamed.status, 2, renamed.stderr);
    assert.match(renamed.stderr, /^cluster\.yaml:1:7: \$\.name: the peer certificates' CN would change from test-etcd-peer to test2-etcd-peer.*set tls\.peerCommonName: test-etcd-peer /m);
    assert.match(renamed.stderr, new RegExp(`^cluster\\.yaml:1:7: \\$\\.name: the initial cluster token would change from ${token} .*set token: ${token}$`, 'm'));
    assert.equal((await p.cli('plan', 'cluster.yaml', '-o', 'out')).status, 2, 'plan refuses it too');
    assert.deepEqual(readTree(p.out), before, 'nothing was written');

    edit(minimalCluster.replace('name: test', `name: test2\ntoken: ${token}`).replace(/\n?$/, '\ntls: { peerCommonName: test-etcd-peer }\n'));
    const pinned = (await p.cli('build', 'cluster.yaml', '-o', 'out'));
    assert.equal(pinned.status, 0, pinned.stderr);
    assert.doesNotMatch(pinned.stderr, /reissued/, 'no certificate changes with the CN pinned');

    edit(minimalCluster.replace('name: test', `name: test2\ntoken: ${token}\nports: { peer: 2390 }`).replace(/\n?$/, '\ntls: { peerCommonName: test-etcd-peer }\n'));
    const port = (await p.cli('build', 'cluster.yaml', '-o', 'out'));
    assert.equal(port.status, 2, port.stderr);
    assert.match(port.stderr, /\$\.ports\.peer: the peer port would change from 2380 to 2390 .*Keep ports\.peer: 2380/);
  });
});

describe('etcd releases', () => {
  it('plans the path to a release, builds one step at a time, and refuses skips, steps from below the minimum and downgrades without the API', async (t) => {
    const p = project(t);
    assert.equal((await p.cli('build', 'cluster.yaml', '-o', 'out')).status, 0);
    const edit = (version: string) => writeFileSync(path.join(p.dir, 'cluster.yaml'), minimalCluster.replace('3.5.13', version));
    edit('3.4.23');
    const down = (await p.cli('plan', 'cluster.yaml', '-o', 'out'));
    assert.equal(down.status, 2, down.stderr);
    assert.match(down.stderr, /^cluster\.yaml:\d+:\d+: \$\.etcd\.version: etcd 3\.5\.13 -> 3\.4\.23 is a minor downgrade, and etcd 3\.5 has no downgrade API .*restored from a snapshot taken before the upgrade/m);
    assert.equal((await p.cli('build', 'cluster.yaml', '-o', 'out')).status, 2, 'build refuses it too');

    edit('3.7.4');
    const plan = (await p.cli('plan', 'cluster.yaml', '-o', 'out'));
    assert.equal(plan.status, 1, plan.stderr);
    assert.match(plan.stdout, /- etcd 3\.5\.13 -> 3\.5\.36: a patch upgrade.*set etcd\.version: "3\.5\.36" and build, then runbooks\/upgrade\.sh/);
    assert.match(plan.stdout, /- check: before 3\.6: every member on 3\.5\.32 or later.*zombie/);
    const json = (await p.cli('plan', 'cluster.yaml', '-o', 'out', '--json'));
    assert.deepEqual(
      (JSON.parse(json.stdout) as { releaseSteps: { from: string; to: string; kind: string }[] }).releaseSteps.map((s) => `${s.from} ${s.kind} ${s.to}`),
      ['3.5.13 patch-upgrade 3.5.36', '3.5.36 minor-upgrade 3.6.17', '3.6.17 minor-upgrade 3.7.4'],
    );
    const skipped = (await p.cli('build', 'cluster.yaml', '-o', 'out'));
    assert.equal(skipped.status, 2, skipped.stderr);
    assert.match(skipped.stderr, /\$\.etcd\.version: etcd 3\.5\.13 -> 3\.7\.4 skips a minor release.*The path that works: 3\.5\.36 -> 3\.6\.17 -> 3\.7\.4, one step per build: set etcd\.version: "3\.5\.36"/);

    edit('3.6.17');
    const below = (await p.cli('build', 'cluster.yaml', '-o', 'out'));
    assert.equal(below.status, 2, below.stderr);
    assert.match(below.stderr, /etcd 3\.5\.13 -> 3\.6\.17: every member must run 3\.5\.32 or later before 3\.6 .*upgrade_3_6.*The path that works: 3\.5\.36 -> 3\.6\.17/);

    for (const [version, kind] of [['3.5.36', 'patch-upgrade'], ['3.6.17', 'minor-upgrade'], ['3.5.36', 'minor-downgrade']] as const) {
      edit(version);
      const step = (await p.cli('build', 'cluster.yaml', '-o', 'out', '--json'));
      assert.equal(step.status, 0, step.stderr);
      const steps = (JSON.parse(step.stdout) as { releaseSteps: { to: string; kind: string; runbook: string }[] }).releaseSteps;
      assert.deepEqual(steps.map((s) => [s.to, s.kind, s.runbook]), [[version, kind, 'runbooks/upgrade.sh']]);
    }
  });
});
