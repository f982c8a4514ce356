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
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { isCI, run, runCli } from '../helpers.js';
import { sleep, startLoopbackCluster, type LoopbackCluster } from '../harness/cluster.js';
import { cacheDir, cachedRelease, type TestRelease } from '../harness/releases.js';

const PATH_OF_RELEASES = ['3.4.23', '3.5.30', '3.5.36', '3.6.17', '3.7.4'];
const DOWNGRADE_TO = '3.6.17';
const MEMBER_BIN = '/opt/etcd-gen-test/bin';

/** A client writing PREFIX1, PREFIX2, ... through every endpoint; `stop` gives each write's outcome and time. */
function startWriter(cluster: LoopbackCluster, prefix: string): { stop(): Promise<{ failed: string[]; writes: number; longestMs: number }> } {
  const stopFile = path.join(cluster.dir, `stop-writer-${prefix.replace(/\W/g, '_')}`);
  const aliases = path.join(cluster.out, 'admin', 'aliases.sh');
  const script = `. ${aliases}; i=0; while [ ! -e ${stopFile} ] && [ -d ${path.dirname(stopFile)} ]; do i=$((i+1)); s=$(date +%s%N); if err=$(etcdctl_cluster put ${prefix}$i $i --command-timeout=5s 2>&1 >/dev/null); then echo "ok $(( ($(date +%s%N) - s) / 1000000 ))"; else echo "FAILED $i after $(( ($(date +%s%N) - s) / 1000000 ))ms: $(tail -n 1 <<<"$err")"; fi; done`;
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
      const ms = lines.map((l) => Number(/^ok (\d+)$/.exec(l)?.[1] ?? /after (\d+)ms/.exec(l)?.[1] ?? 0));
      return { failed: lines.filter((l) => !l.startsWith('ok ')), writes: lines.length, longestMs: Math.max(0, ...ms) };
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

function setVersion(cluster: LoopbackCluster, version: string): void {
  const text = readFileSync(cluster.configFile, 'utf8');
  writeFileSync(cluster.configFile, text.replace(/etcd: \{ version: "[0-9.]+" \}/, `etcd: { version: "${version}" }`));
}

/** The release each member runs, from its own endpoint status. */
function versions(cluster: LoopbackCluster): string[] {
  return cluster.members.map((m) => {
    const r = cluster.etcdctl(`etcdctl_${m}`, 'endpoint status -w fields');
    return /"Version" : "([0-9.]+)"/.exec(r.stdout)?.[1] ?? `(${m} did not answer: ${r.stderr.trim()})`;
  });
}

function clusterVersion(cluster: LoopbackCluster): string {
  const pki = path.join(cluster.out, 'admin', 'pki');
  const r = cluster.ns('curl', ['-fsS', '--cacert', `${pki}/ca.crt`, '--cert', `${pki}/admin.crt`, '--key', `${pki}/admin.key`, `https://${cluster.host('m1')}:2379/version`]);
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
