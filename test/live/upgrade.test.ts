/**
 * runbooks/upgrade.sh, live: a 3-member cluster on the loopback harness moved 3.4.23 -> 3.5.30 (the newest
 * Debian patch of the matrix) -> 3.5.36 -> 3.6.17 -> 3.7.4 and back to 3.6.17 through etcd's downgrade
 * API, one build and one run per step, with a client writing through every endpoint all the time. Data
 * written before each step reads back after it; failed writes are counted per step. The run of one step
 * is killed after its second member and finishes when started again; the refusals say why.
 *
 * Each member has a bin directory of its own (the harness's memberBin), and the runbook installs each
 * release there from a tarball made of the matrix's binaries (--tarball, as for etcd.install from: none).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { isCI, run, runCli } from '../helpers.js';
import { sleep, startLoopbackCluster, type LoopbackCluster } from '../harness/cluster.js';
import { cacheDir, cachedRelease, type TestRelease } from '../harness/releases.js';

const PATH_OF_RELEASES = ['3.4.23', '3.5.30', '3.5.36', '3.6.17', '3.7.4'];
const DOWNGRADE_TO = '3.6.17';
const MEMBER_BIN = '/opt/etcd-gen-test/bin';

/**
 * A client writing PREFIX1, PREFIX2, ... through every endpoint; `stop` gives each write's outcome and
 * time, and the acknowledged keys that a read of the prefix afterwards lacks (`missing`).
 */
function startWriter(cluster: LoopbackCluster, prefix: string): { stop(): Promise<{ failed: string[]; writes: number; longestMs: number; missing: string[] }> } {
  const stopFile = path.join(cluster.dir, `stop-writer-${prefix.replace(/\W/g, '_')}`);
  const aliases = path.join(cluster.out, 'admin', 'aliases.sh');
  const script = `. ${aliases}; i=0; while [ ! -e ${stopFile} ] && [ -d ${path.dirname(stopFile)} ]; do i=$((i+1)); s=$(date +%s%N); if err=$(etcdctl_cluster put ${prefix}$i $i --command-timeout=5s 2>&1 >/dev/null); then echo "ok $i $(( ($(date +%s%N) - s) / 1000000 ))"; else echo "FAILED $i after $(( ($(date +%s%N) - s) / 1000000 ))ms: $(tail -n 1 <<<"$err")"; fi; done`;
  const writer = spawn('ip', ['netns', 'exec', cluster.netns, 'bash', '-c', script], { env: cluster.env });
  let written = '';
  writer.stdout.on('data', (d: Buffer) => (written += d.toString()));
  const done = new Promise((resolve) => writer.on('close', resolve));
  return {
    async stop() {
      await sleep(1500);
      writeFileSync(stopFile, '');
      await done;
      const lines = written.trim().split('\n').filter(Boolean);
      const ms = lines.map((l) => Number(/^ok \d+ (\d+)$/.exec(l)?.[1] ?? /after (\d+)ms/.exec(l)?.[1] ?? 0));
      const got = cluster.etcdctl('etcdctl_cluster', `get --prefix ${prefix} --keys-only`);
      if (got.status !== 0) throw new Error(`reading back ${prefix}: ${got.stderr}`);
      const have = new Set(got.stdout.split('\n').filter(Boolean));
      const missing = lines.flatMap((l) => /^ok (\d+) /.exec(l)?.[1] ?? []).map((i) => `${prefix}${i}`).filter((k) => !have.has(k));
      return { failed: lines.filter((l) => !l.startsWith('ok ')), writes: lines.length, longestMs: Math.max(0, ...ms), missing };
    },
  };
}

/** A tarball laid out as etcd's release tarballs are (one top directory), of a release's cached binaries. */
function releaseTarball(cluster: LoopbackCluster, release: TestRelease): string {
  const top = `etcd-v${release.version}-linux-amd64`;
  const stage = path.join(cluster.dir, 'tarballs', release.version);
  mkdirSync(path.join(stage, top), { recursive: true });
  const copied = run('sh', ['-c', `cp ${release.bin}/etcd ${release.bin}/etcdctl ${path.join(stage, top)}/ && { [ ! -e ${release.bin}/etcdutl ] || cp ${release.bin}/etcdutl ${path.join(stage, top)}/; }`]);
  assert.equal(copied.status, 0, copied.stderr);
  const file = path.join(cluster.dir, 'tarballs', `${top}.tar`);
  const tarred = run('tar', ['-cf', file, '-C', stage, top]);
  assert.equal(tarred.status, 0, tarred.stderr);
  return file;
}

/** Sets etcd.version in cluster.yaml, keeping the other fields of its `etcd: { ... }` line. */
function setVersion(cluster: LoopbackCluster, version: string): void {
  const text = readFileSync(cluster.configFile, 'utf8');
  writeFileSync(cluster.configFile, text.replace(/^etcd: \{ version: "[0-9.]+"/m, `etcd: { version: "${version}"`));
}

/** Sets (or, with null, drops) etcd.tuning.snapshotCount in cluster.yaml's `etcd: { ... }` line. */
function setSnapshotCount(cluster: LoopbackCluster, count: number | null): void {
  const text = readFileSync(cluster.configFile, 'utf8').replace(/, tuning: \{ snapshotCount: \d+ \}/, '');
  writeFileSync(cluster.configFile, count === null ? text : text.replace(/^(etcd: \{ version: "[0-9.]+")/m, `$1, tuning: { snapshotCount: ${count} }`));
}

/** A member's raft index, from its own endpoint status. */
function raftIndex(cluster: LoopbackCluster, m: string): number {
  const r = cluster.etcdctl(`etcdctl_${m}`, 'endpoint status -w fields');
  return Number(/"RaftIndex" : (\d+)/.exec(r.stdout)?.[1] ?? 0);
}

/**
 * Puts `count` keys under /up/fill/ through m1's gRPC gateway (one HTTPS connection, 8 in flight), to give
 * every member more raft entries since its last snapshot than snapshotCount. Runs node in the cluster's
 * network namespace; throws with what the gateway said on a failed put.
 */
function fillRaftLog(cluster: LoopbackCluster, count: number): void {
  const pki = path.join(cluster.out, 'admin', 'pki');
  const script = `
const https = require('node:https'); const fs = require('node:fs');
const [ca, cert, key, url, count] = process.argv.slice(1);
const agent = new https.Agent({ keepAlive: true, maxSockets: 8, ca: fs.readFileSync(ca), cert: fs.readFileSync(cert), key: fs.readFileSync(key) });
const b64 = (s) => Buffer.from(s).toString('base64');
const put = (i) => new Promise((resolve, reject) => {
  const req = https.request(url + '/v3/kv/put', { method: 'POST', agent, timeout: 10000 }, (res) => {
    let body = ''; res.on('data', (d) => (body += d)); res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(res.statusCode + ' ' + body))));
  });
  req.on('error', reject); req.end(JSON.stringify({ key: b64('/up/fill/' + i), value: b64(String(i)) }));
});
(async () => { let next = 0; const n = Number(count);
  await Promise.all(Array.from({ length: 8 }, async () => { while (next < n) await put(next++); }));
  agent.destroy(); })().catch((e) => { console.error(e.message); process.exit(1); });`;
  const r = cluster.ns(process.execPath, ['-e', script, `${pki}/ca.crt`, `${pki}/admin.crt`, `${pki}/admin.key`, `https://${cluster.host('m1')}:2379`, String(count)], { timeout: 120_000 });
  assert.equal(r.status, 0, `filling the raft log: ${r.stderr}`);
}

/** The v2 snapshot files (member/snap/*.snap) in a member's data dir. */
const v2Snapshots = (cluster: LoopbackCluster, m: string): string[] =>
  readdirSync(path.join(cluster.dataDir(m), 'member', 'snap')).filter((f) => f.endsWith('.snap'));

/** The release each member runs, from its own endpoint status. */
function versions(cluster: LoopbackCluster): string[] {
  return cluster.members.map((m) => {
    const r = cluster.etcdctl(`etcdctl_${m}`, 'endpoint status -w fields');
    return /"Version" : "([0-9.]+)"/.exec(r.stdout)?.[1] ?? `(${m} did not answer: ${r.stderr.trim()})`;
  });
}

/** GET https://MEMBER:2379/PATH with the admin certificate, in the cluster's network namespace. */
function curlMember(cluster: LoopbackCluster, m: string, urlPath: string) {
  const pki = path.join(cluster.out, 'admin', 'pki');
  return cluster.ns('curl', ['-fsS', '--cacert', `${pki}/ca.crt`, '--cert', `${pki}/admin.crt`, '--key', `${pki}/admin.key`, `https://${cluster.host(m)}:2379${urlPath}`]);
}

function clusterVersion(cluster: LoopbackCluster): string {
  const r = curlMember(cluster, 'm1', '/version');
  return /"etcdcluster":"([0-9.]+)"/.exec(r.stdout)?.[1] ?? `(no answer: ${r.stderr.trim()})`;
}

async function put(cluster: LoopbackCluster, key: string, value: string): Promise<void> {
  let r = cluster.etcdctl('etcdctl_cluster', `put ${key} ${value} --command-timeout=5s`);
  for (let i = 0; i < 20 && r.status !== 0; i++) {
    await sleep(1000);
    r = cluster.etcdctl('etcdctl_cluster', `put ${key} ${value} --command-timeout=5s`);
  }
  assert.equal(r.status, 0, `put ${key}: ${r.stderr}`);
}

/** What a runbook run of the target release needs: its etcdctl and etcdutl first. */
const toolsOf = (release: TestRelease) => ({
  PATH: `${release.bin}:${process.env.PATH ?? ''}`,
  ETCDCTL_BIN: path.join(release.bin, 'etcdctl'),
  ETCDUTL_BIN: path.join(release.bin, 'etcdutl'),
});

const build = (cluster: LoopbackCluster) => runCli(['build', 'cluster.yaml', '-o', 'out'], { cwd: cluster.dir });

test('upgrade.sh: 3.4.23 -> 3.5.30 -> 3.5.36 -> 3.6.17 -> 3.7.4 -> (downgrade) 3.6.17 under a writing client', { timeout: 40 * 60_000 }, async (t: TestContext) => {
  const releases = PATH_OF_RELEASES.map((v) => cachedRelease(v));
  const missing = PATH_OF_RELEASES.filter((_, i) => releases[i] === null);
  if (missing.length > 0) {
    if (isCI) assert.fail(`no binaries for etcd ${missing.join(', ')} in ${cacheDir}/etcd: run \`npm run etcd:fetch\``);
    t.skip(`no binaries for etcd ${missing.join(', ')} in ${cacheDir}/etcd`);
    return;
  }
  const byVersion = new Map(releases.map((r) => [r?.version ?? '', r as TestRelease]));
  const first = byVersion.get(PATH_OF_RELEASES[0] ?? '');
  assert.ok(first);
  const cluster = await startLoopbackCluster(t, { name: 'up', release: first, memberBin: MEMBER_BIN });
  if (!cluster) return;
  const runbook = (args: string[], release: TestRelease) => cluster.runbook('upgrade.sh', args, { timeout: 15 * 60_000, env: toolsOf(release) });
  const memberShell = path.join(cluster.dir, 'member-shell');
  const onMember = (m: string, command: string) => cluster.ns('bash', [memberShell, cluster.host(m), command], { timeout: 60_000 });
  const tarballs = new Map(releases.map((r) => [r?.version ?? '', releaseTarball(cluster, r as TestRelease)]));
  const written: string[] = [];
  /** What npm run bench reports (ETCD_GEN_UPGRADE_REPORT names the file): per step, wall time and writes. */
  const report: { step: string; wallMs: number; writes: number; failed: number; longestWriteMs: number }[] = [];

  await t.test('refused: a skipped minor, a downgrade without the API', () => {
    setVersion(cluster, '3.6.17');
    const skipped = build(cluster);
    assert.equal(skipped.status, 2, skipped.stderr);
    assert.match(skipped.stderr, /cluster\.yaml:2:\d+: \$\.etcd\.version: etcd 3\.4\.23 -> 3\.6\.17 skips a minor release.*The path that works: 3\.4\.\d+ -> 3\.5\.\d+ -> 3\.6\.17/);
    const plan = runCli(['plan', 'cluster.yaml', '-o', 'out', '--json'], { cwd: cluster.dir });
    assert.equal(plan.status, 1, plan.stderr);
    const steps = (JSON.parse(plan.stdout) as { releaseSteps: { from: string; to: string; runbook: string }[] }).releaseSteps;
    assert.deepEqual(steps.map((s) => `${s.from}->${s.to}`), ['3.4.23->3.4.45', '3.4.45->3.5.36', '3.5.36->3.6.17']);
    assert.ok(steps.every((s) => s.runbook === 'runbooks/upgrade.sh'));
    setVersion(cluster, '3.4.23');
  });

  const step = async (from: string, to: string, options: { interrupt?: boolean; downgrade?: boolean; built?: string } = {}) => {
    const release = byVersion.get(to);
    assert.ok(release);
    await put(cluster, `/up/before-${to}-${options.downgrade ? 'down' : 'up'}`, from);
    written.push(`/up/before-${to}-${options.downgrade ? 'down' : 'up'}`);
    setVersion(cluster, to);
    const built = options.built === undefined ? build(cluster) : { status: 0, stderr: options.built };
    assert.equal(built.status, 0, built.stderr);
    assert.match(built.stderr, new RegExp(`etcd ${from.replace(/\./g, '\\.')} -> ${to.replace(/\./g, '\\.')}: a (patch|minor) (up|down)grade.*runbooks/upgrade\\.sh`));
    const args = ['--yes', '--tarball', tarballs.get(to) ?? ''];
    const writer = startWriter(cluster, `/up/w-${to}-${options.downgrade ? 'down' : 'up'}-`);
    await sleep(1500);
    const started = Date.now();
    let rerun = null;
    if (options.interrupt) {
      // Killed once its second member is done; the next run finishes.
      const child = spawn('ip', ['netns', 'exec', cluster.netns, 'bash', path.join(cluster.out, 'runbooks', 'upgrade.sh'), ...args], {
        cwd: cluster.dir,
        detached: true,
        env: { ...cluster.env, ETCD_GEN_REMOTE: memberShell, ETCD_GEN_WAIT: '60', ...toolsOf(release) },
      });
      let err = '';
      const closed = new Promise((resolve) => child.on('close', resolve));
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        if ((err.match(/healthy and caught up/g) ?? []).length >= 2 && child.pid !== undefined) {
          try {
            process.kill(-child.pid, 'SIGKILL');
          } catch {
            // gone already
          }
        }
      });
      await closed;
      assert.equal((err.match(/healthy and caught up/g) ?? []).length, 2, `killed after the second member\n${err}`);
      const mixed = versions(cluster);
      assert.equal(mixed.filter((v) => v === to).length, 2, `two members on ${to} when killed: ${mixed.join(', ')}`);
      rerun = runbook(args, release);
      assert.equal(rerun.status, 0, `${rerun.stderr}\n${cluster.logs()}`);
      assert.equal((rerun.stderr.match(/healthy and caught up/g) ?? []).length, 1, `the rerun did the one member left\n${rerun.stderr}`);
      if (from.startsWith('3.5.') && to.startsWith('3.6.')) {
        // etcd's 3.6 guide: each stopped 3.5 member's own etcdutl checks its data dir for custom v2 content first.
        const checked = /m\d: etcdutl 3\.5\.\d+ check v2store: No custom content found in both v2store and WAL records/g;
        assert.equal((err.match(checked) ?? []).length, 2, `the v2store check ran on each member moved\n${err}`);
        assert.equal((rerun.stderr.match(checked) ?? []).length, 1, `and on the one left\n${rerun.stderr}`);
      }
    } else {
      const r = runbook(args, release);
      assert.equal(r.status, 0, `${r.stderr}\n${cluster.logs()}`);
      if (options.downgrade) assert.match(r.stderr, /downgrade to 3\.\d+ enabled/);
      assert.match(r.stderr, /leadership moved from m\d to m\d/);
      assert.match(r.stderr, /snapshot saved and checked/);
    }
    const wallMs = Date.now() - started;
    const w = await writer.stop();
    assert.ok(w.writes >= 10, `the writer kept writing (${w.writes} writes)`);
    assert.deepEqual(w.missing, [], `every acknowledged write reads back after ${from} -> ${to}`);
    assert.deepEqual(versions(cluster), cluster.members.map(() => to), `every member runs ${to}`);
    assert.equal(clusterVersion(cluster), `3.${to.split('.')[1]}.0`, 'the cluster version moved');
    for (const key of written) {
      const got = cluster.etcdctl('etcdctl_cluster', `get ${key} --print-value-only`);
      assert.equal(got.status, 0, got.stderr);
      assert.notEqual(got.stdout.trim(), '', `${key} reads back after ${from} -> ${to}`);
    }
    const line = `${from} -> ${to}${options.interrupt ? ' (killed after its second member, run again)' : ''}: ${(wallMs / 1000).toFixed(1)} s, ${w.writes} writes, ${w.failed.length} failed, longest write ${w.longestMs} ms`;
    report.push({ step: `${from} -> ${to}${options.interrupt ? ' (interrupted, run again)' : ''}`, wallMs, writes: w.writes, failed: w.failed.length, longestWriteMs: w.longestMs });
    t.diagnostic(line);
    for (const f of w.failed) t.diagnostic(`  ${f}`);
    return w;
  };

  await t.test('3.4.23 -> 3.5.30; refused while a member is down first', async () => {
    // A probe's /health on 3.4 (a v2 QGET through raft: a WAL record on every member, see the 3.6 step).
    for (const m of cluster.members) {
      const h = curlMember(cluster, m, '/health');
      assert.equal(h.status, 0, h.stderr);
    }
    await put(cluster, '/up/before-3.5.30-up', '3.4.23');
    written.push('/up/before-3.5.30-up');
    setVersion(cluster, '3.5.30');
    const built = build(cluster);
    assert.equal(built.status, 0, built.stderr);
    await cluster.stop('m3');
    const down = runbook(['--yes', '--tarball', tarballs.get('3.5.30') ?? ''], byVersion.get('3.5.30') as TestRelease);
    assert.equal(down.status, 3, down.stderr);
    assert.match(down.stderr, /m3 does not answer.*upgrade only a cluster whose every member is up/);
    assert.deepEqual(versions(cluster).slice(0, 2), ['3.4.23', '3.4.23'], 'nothing was changed');
    assert.equal(onMember('m3', 'systemctl start --no-block etcd').status, 0);
    assert.ok(await cluster.waitHealthy(60_000), cluster.logs());
    await step('3.4.23', '3.5.30', { built: built.stderr });
  });

  await t.test('refused: a downgrade from 3.5 (no downgrade API)', () => {
    setVersion(cluster, '3.4.23');
    const r = build(cluster);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /\$\.etcd\.version: etcd 3\.5\.30 -> 3\.4\.23 is a minor downgrade, and etcd 3\.5 has no downgrade API.*restored from a snapshot/);
    setVersion(cluster, '3.5.30');
  });

  await t.test('3.5.30 -> 3.5.36', async () => {
    await step('3.5.30', '3.5.36');
  });
  await t.test('3.5.36 -> 3.6.17 refused on the v2 records 3.4 left in the WAL; the way out the refusal gives', async () => {
    // etcd 3.4 answered /health with a v2 QGET through raft (as a load balancer's probe would make it do),
    // and those WAL records stay until a v2 snapshot, which etcd takes every 100000 entries up to 3.5.
    setVersion(cluster, '3.6.17');
    const built = build(cluster);
    assert.equal(built.status, 0, built.stderr);
    const release = byVersion.get('3.6.17') as TestRelease;
    const refused = runbook(['--yes', '--tarball', tarballs.get('3.6.17') ?? ''], release);
    assert.equal(refused.status, 3, `${refused.stderr}\n${cluster.logs()}`);
    assert.match(refused.stderr, /m\d: etcdutl check v2store said: Error: detected custom v2 content in WAL records\. m\d runs etcd 3\.5\.36 again; it was not moved to 3\.6\.17\. etcd's 3\.6 upgrade guide .*etcd\.tuning\.snapshotCount: 1000, roll that out with runbooks\/rotate-certs\.sh/);
    assert.ok(await cluster.waitHealthy(60_000), cluster.logs());
    assert.deepEqual(versions(cluster), cluster.members.map(() => '3.5.36'), 'no member was moved');
    // What the refusal says: a build on the release they run with snapshotCount 1000, rolled out.
    const fewest = Math.min(...cluster.members.map((m) => raftIndex(cluster, m)));
    if (fewest <= 1100) fillRaftLog(cluster, 1200 - fewest);
    for (const m of cluster.members) assert.ok(raftIndex(cluster, m) > 1100, `${m} holds more than 1000 raft entries since its last snapshot (${raftIndex(cluster, m)}, none taken yet), so it snapshots at its restart`);
    for (const m of cluster.members) assert.deepEqual(v2Snapshots(cluster, m), [], `${m} has taken no v2 snapshot yet`);
    setVersion(cluster, '3.5.36');
    setSnapshotCount(cluster, 1000);
    const remedy = build(cluster);
    assert.equal(remedy.status, 0, remedy.stderr);
    // (The build reasons from out/, which says 3.6.17, and so calls this a downgrade: issue 22's plans from
    // the observation. rotate-certs.sh installs etcd.conf as the refusal says, whatever the build printed.)
    for (const m of cluster.members) assert.match(readFileSync(path.join(cluster.out, 'nodes', m, 'root', 'etc', 'etcd', 'etcd.conf'), 'utf8'), /^ETCD_SNAPSHOT_COUNT="?1000"?$/m);
    const writer = startWriter(cluster, '/up/w-snapshot-count-');
    const rolled = cluster.runbook('rotate-certs.sh', ['--yes'], { timeout: 10 * 60_000, env: toolsOf(byVersion.get('3.5.36') as TestRelease) });
    const w = await writer.stop();
    assert.equal(rolled.status, 0, `${rolled.stderr}\n${cluster.logs()}`);
    assert.ok(w.writes >= 10, `the writer kept writing (${w.writes} writes)`);
    assert.deepEqual(w.failed, [], 'no write failed while rotate-certs.sh restarted the members');
    assert.deepEqual(w.missing, [], 'every acknowledged write reads back');
    for (const m of cluster.members) assert.ok(v2Snapshots(cluster, m).length > 0, `${m} took a v2 snapshot at its restart`);
    t.diagnostic(`snapshotCount 1000 rolled out by rotate-certs.sh: ${w.writes} writes, 0 failed; v2 snapshots: ${cluster.members.map((m) => `${m} ${v2Snapshots(cluster, m).join(' ')}`).join(', ')}`);
  });
  await t.test('3.5.36 -> 3.6.17, killed after its second member and run again', async () => {
    await step('3.5.36', '3.6.17', { interrupt: true });
  });
  await t.test('3.6.17 -> 3.7.4', async () => {
    await step('3.6.17', '3.7.4');
  });
  await t.test(`3.7.4 -> ${DOWNGRADE_TO} through the downgrade API`, async () => {
    await step('3.7.4', DOWNGRADE_TO, { downgrade: true });
  });
  if (process.env.ETCD_GEN_UPGRADE_REPORT) writeFileSync(process.env.ETCD_GEN_UPGRADE_REPORT, JSON.stringify(report, null, 2));
});

test('upgrade.sh refuses a cluster whose members run a release the step may not leave (3.5.30, below 3.5.32, to 3.6.17: built twice without running it, as a cluster built before the rule changed)', { timeout: 10 * 60_000 }, async (t: TestContext) => {
  const from = cachedRelease('3.5.30');
  const to = cachedRelease('3.6.17');
  if (!from || !to) {
    if (isCI) assert.fail(`no binaries for etcd 3.5.30 and 3.6.17 in ${cacheDir}/etcd: run \`npm run etcd:fetch\``);
    t.skip('no binaries for etcd 3.5.30 and 3.6.17');
    return;
  }
  const cluster = await startLoopbackCluster(t, { name: 'below', release: from, memberBin: MEMBER_BIN });
  if (!cluster) return;
  // The operator builds 3.5.36 (a patch step) and then 3.6.17 without running upgrade.sh in between.
  for (const version of ['3.5.36', '3.6.17']) {
    setVersion(cluster, version);
    const built = build(cluster);
    assert.equal(built.status, 0, built.stderr);
  }
  const r = cluster.runbook('upgrade.sh', ['--yes', '--tarball', releaseTarball(cluster, to)], { env: toolsOf(to) });
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stderr, /m\d runs etcd 3\.5\.30: every member must run 3\.5\.32 or later before 3\.6/);
  assert.deepEqual(versions(cluster), ['3.5.30', '3.5.30', '3.5.30'], 'nothing was changed');
});
