/**
 * Issue 12: etcd-gen's output on real hosts (test/harness/hosts.ts): booted Debian machines with systemd,
 * sshd and cloud-init, one bed per release (the newest of 3.5, 3.6 and 3.7), several checks per bed.
 *
 * Day 1 by cloud-init (user-data as the NoCloud seed, etcd by the tarball route, no other step), the
 * unit's sandbox read from the running member under real systemd (and a broken sandbox shown to fail),
 * every host rebooted with its data kept, and the runbooks over real ssh as the image's sudo user while
 * a client with the kube-apiserver certificate writes through every endpoint; on the newest release, the
 * backup timer. Two more beds: day 1 by hand with out/README.md's commands (newest 3.6), and day 1 by
 * cloud-init with the package route (Debian's etcd, from a local apt repository).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { isCI, run, runCli } from '../helpers.js';
import { INSTALL_MARKER } from '../harness/deploy.js';
import { bedAvailable, startBed, type Bed } from '../harness/hosts.js';
import { cachedRelease, matrixRows, newestPerLine, testEachRelease } from '../harness/releases.js';
import { assertWrites, failedWrites, type Writer } from '../harness/writer.js';

/** Timings per release (ms) and write counts, for bench/live.ts (ETCD_GEN_HOSTS_REPORT names the file). */
const timings: Record<string, Record<string, number>> = {};
function report(): void {
  const file = process.env.ETCD_GEN_HOSTS_REPORT;
  if (file) writeFileSync(file, JSON.stringify(timings, null, 2));
}

/**
 * The bed runs the matrix's releases (npm run etcd:fetch), never an etcd on PATH: without them the test
 * fails under CI and is skipped with the banner elsewhere.
 */
function noMatrix(t: TestContext): void {
  const why = 'needs the etcd releases of test/etcd-matrix.txt in the cache (npm run etcd:fetch)';
  if (isCI) assert.fail(`${t.name}: ${why}. Under CI a missing piece is a failure.`);
  process.stderr.write(`\n!!! SKIPPED "${t.name}": ${why}. This check did NOT run. !!!\n\n`);
  t.skip(why);
}

async function put(bed: Bed, key: string, value: string): Promise<void> {
  let r = bed.etcdctl('etcdctl_cluster', `put ${key} ${value} --command-timeout=5s`);
  for (let i = 0; i < 20 && r.status !== 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    r = bed.etcdctl('etcdctl_cluster', `put ${key} ${value} --command-timeout=5s`);
  }
  assert.equal(r.status, 0, `put ${key}: ${r.stderr}`);
}

/** The etcd process's pid on a member, as the member sees it (the unit's MainPID). */
function etcdPid(bed: Bed, m: string): number {
  const pid = Number(bed.inside(m, 'systemctl show -p MainPID --value etcd').stdout.trim());
  assert.ok(pid > 0, `${m}: etcd has a main pid`);
  return pid;
}

function field(status: string, name: string): string {
  return new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1]?.trim() ?? '';
}

const newestRelease = newestPerLine(matrixRows().map((r) => r.version)).at(-1);

testEachRelease('real hosts', 'newest', { timeout: 1_200_000 }, async (t, release) => {
  if (!release) return noMatrix(t);
  const bed = await startBed(t, { release, spares: ['h4'], extraYaml: 'backup: { enabled: true, keep: 2, onCalendar: "*:*:0/10" }\n' });
  if (!bed) return;
  const v = release.version;
  const tm: Record<string, number> = {};
  timings[v] = tm;

  await t.test('day 1 by cloud-init: every host boots its user-data and the cluster becomes healthy', async () => {
    const started = Date.now();
    for (const m of bed.members) bed.boot(m);
    const status = await bed.waitCloudInit();
    for (const [m, s] of status) assert.match(s, /status: done/, `${m}: cloud-init finished without error:\n${s}\n${bed.logs()}`);
    assert.ok(await bed.waitHealthy(), `the cluster became healthy\n${bed.logs()}`);
    tm.bootToHealthy = Date.now() - started;
    t.diagnostic(`etcd ${v}: boot to healthy by cloud-init ${tm.bootToHealthy} ms`);
    report();
    const list = bed.etcdctl('etcdctl_cluster', 'member list -w simple');
    assert.equal(list.status, 0, list.stderr);
    assert.equal(list.stdout.trim().split('\n').length, 3, list.stdout);
    for (const m of bed.members) {
      const version = bed.inside(m, '/usr/local/bin/etcd --version').stdout;
      assert.match(version, new RegExp(`etcd Version: ${v.replace(/\./g, '\\.')}`), `${m} runs the tarball's etcd`);
      assert.equal(bed.inside(m, 'systemctl is-enabled etcd').stdout.trim(), 'enabled');
    }
  });

  await t.test('the unit under real systemd: the running member is sandboxed as the unit says', () => {
    for (const m of bed.members) {
      const pid = etcdPid(bed, m);
      const status: string = bed.inside(m, `cat /proc/${pid}/status`).stdout;
      assert.equal(field(status, 'Seccomp'), '2', `${m}: seccomp filter mode`);
      assert.equal(field(status, 'NoNewPrivs'), '1', `${m}: no new privileges`);
      assert.equal(field(status, 'CapEff'), '0000000000000000', `${m}: no effective capabilities`);
      assert.equal(field(status, 'CapBnd'), '0000000000000000', `${m}: an empty bounding set`);
      const uid = field(status, 'Uid').split(/\s+/)[0];
      assert.equal(bed.inside(m, `id -u etcd`).stdout.trim(), uid, `${m}: etcd runs as the etcd user`);
      // The mount table etcd sees: / and /usr, /etc read-only; the data dir the one writable place of the disk.
      const mounts: { point: string; options: string }[] = bed.inside(m, `cat /proc/${pid}/mountinfo`).stdout.trim().split('\n').map((l) => {
        const f = l.split(' ');
        return { point: f[4] ?? '', options: f[5] ?? '' };
      });
      const deepest = (p: string) => mounts.filter((x) => p === x.point || p.startsWith(x.point.endsWith('/') ? x.point : `${x.point}/`)).sort((a, b) => b.point.length - a.point.length)[0];
      for (const p of ['/', '/usr', '/etc', '/etc/etcd', '/usr/local/bin'])
        assert.match(deepest(p)?.options ?? '', /(^|,)ro(,|$)/, `${m}: ${p} is read-only to etcd`);
      assert.match(deepest('/var/lib/etcd')?.options ?? '', /(^|,)rw(,|$)/, `${m}: the data dir is writable`);
      assert.ok(mounts.some((x) => x.point === '/var/lib/etcd'), `${m}: the data dir is a mount of its own (ReadWritePaths or StateDirectory)`);
      // Mounted writable apart from the data dir: the private /tmp and /var/tmp, /dev, the kernel's own
      // trees, and /run (a tmpfs, root's, mode 0755: systemd 252 leaves it writable in this container).
      const writable: string[] = mounts.filter((x) => /(^|,)rw(,|$)/.test(x.options)).map((x) => x.point).filter((p) => !/^\/(proc|sys|dev|run|tmp|var\/tmp)(\/|$)/.test(p));
      assert.deepEqual(writable, ['/var/lib/etcd'], `${m}: the data dir is the only writable place on disk`);
      // What etcd's user may write in etcd's mount namespace: the data dir, and nothing of the system.
      const tries = ['/var/lib/etcd/.probe', '/run/.probe', '/etc/.probe', '/etc/etcd/.probe', '/usr/local/bin/.probe', '/var/lib/.probe', '/.probe'];
      const wrote: string[] = bed
        .inside(m, `nsenter -t ${pid} -m setpriv --reuid=${uid} --regid=$(id -g etcd) --clear-groups sh -c 'for f in ${tries.join(' ')}; do if : 2>/dev/null >"$f"; then echo "$f"; rm -f "$f"; fi; done'`)
        .stdout.trim()
        .split('\n');
      assert.deepEqual(wrote, ['/var/lib/etcd/.probe'], `${m}: etcd's user writes only into the data dir`);
      const limit = bed.inside(m, 'systemctl show -p LimitNOFILE --value etcd').stdout.trim();
      assert.equal(limit, '40000', `${m}: the unit asks for LimitNOFILE=40000`);
    }
  });

  await t.test('a broken sandbox fails: the data dir made read-only by a drop-in stops etcd', async () => {
    const m = bed.members[2] ?? 'h3';
    const dropIn = '/etc/systemd/system/etcd.service.d/zz-broken.conf';
    let r = bed.inside(m, `mkdir -p ${path.dirname(dropIn)} && printf '[Service]\\nReadOnlyPaths=/var/lib/etcd\\nRestart=no\\n' > ${dropIn} && systemctl daemon-reload && systemctl restart etcd; echo rc=$?`, { timeout: 120_000 });
    assert.match(r.stdout, /rc=[1-9]/, `restarting etcd with a read-only data dir fails\n${r.stdout}${r.stderr}`);
    assert.notEqual(bed.inside(m, 'systemctl is-active etcd').stdout.trim(), 'active');
    r = bed.inside(m, `rm -f ${dropIn} && systemctl daemon-reload && systemctl reset-failed etcd; systemctl start --no-block etcd`);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(await bed.waitHealthy(), `the member came back\n${bed.logs()}`);
  });

  await t.test('rebooting every host keeps the data', async () => {
    await put(bed, '/hosts/before-reboot', v);
    const before = new Map(bed.members.map((m) => [m, bed.pid1(m)]));
    const started = Date.now();
    for (const m of bed.members) {
      const r = bed.ssh(m, 'sudo -n systemctl reboot', { timeout: 30_000 });
      assert.ok(r.status === 0 || r.status === 255, `${m}: reboot asked (${r.status}: ${r.stderr})`);
    }
    // Every host comes back as a new boot (a new PID 1), and etcd starts by itself.
    for (let i = 0; i < 240 && bed.members.some((m) => bed.pid1(m) === 0 || bed.pid1(m) === before.get(m)); i++) await new Promise((resolve) => setTimeout(resolve, 500));
    for (const m of bed.members) assert.ok(bed.pid1(m) > 0 && bed.pid1(m) !== before.get(m), `${m} booted again`);
    assert.ok(await bed.waitHealthy(), `the cluster is healthy after every host rebooted\n${bed.logs()}`);
    tm.rebootToHealthy = Date.now() - started;
    t.diagnostic(`etcd ${v}: reboot of every host to healthy ${tm.rebootToHealthy} ms`);
    report();
    const r = bed.etcdctl('etcdctl_cluster', 'get /hosts/before-reboot --print-value-only');
    assert.equal(r.stdout.trim(), v, 'the key written before the reboot is there');
  });

  /** Runs a runbook while the kube-apiserver client writes; returns the writes and records the wall time. */
  const here: Bed = bed;
  async function underWrites(name: string, args: string[], prefix: string): Promise<{ r: ReturnType<Bed['runbook']>; writes: string[]; writer: Writer }> {
    const writer = await here.startWriter(prefix);
    const started = Date.now();
    const r = here.runbook(name, args);
    tm[name] = Date.now() - started;
    const writes = await writer.stop();
    tm[`${name} writes`] = writes.length;
    tm[`${name} failed`] = failedWrites(writes).length;
    report();
    t.diagnostic(`etcd ${v}: ${name}: ${tm[name]} ms, ${writes.length} writes, ${failedWrites(writes).length} failed`);
    return { r, writes, writer };
  }

  await t.test('health.sh on the booted cluster while the client writes', async () => {
    assert.ok(await bed.waitHealthy(), `the cluster is up before health.sh runs\n${bed.logs()}`);
    const { r, writes, writer } = await underWrites('health.sh', [], '/hosts/health/');
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.equal(r.stdout.split('\n').filter((l) => /^h\d\s+https:\/\/10\.77\.0\.\d+:2379\s+true\s/.test(l)).length, 3, r.stdout);
    assert.match(r.stdout, /^alarms: none$/m);
    assertWrites(writer, writes, 3, 'health.sh');
    // health.sh asks etcd only; rotate-certs.sh below is the first runbook to reach members over ssh.
  });

  await t.test('snapshot.sh takes a checked snapshot while the client writes', async () => {
    const file = path.join(bed.dir, 'snap.db');
    const { r, writes, writer } = await underWrites('snapshot.sh', [file], '/hosts/snapshot/');
    assert.equal(r.status, 0, r.stderr);
    assert.ok(existsSync(file) && statSync(file).size > 0, 'the snapshot is there');
    assert.equal(run('sha256sum', ['-c', 'snap.db.sha256'], { cwd: bed.dir }).status, 0);
    assertWrites(writer, writes, 5, 'snapshot.sh');
  });

  await t.test('rotate-certs.sh installs new leaf certificates over ssh with sudo, with no failed write', async () => {
    const before = Object.fromEntries(bed.members.map((m) => [m, bed.servedFingerprint(m)]));
    const peerBefore = Object.fromEntries(bed.members.map((m) => [m, bed.servedFingerprint(m, 2380)]));
    const renewed = runCli(['build', 'cluster.yaml', '-o', 'out', '--renew'], { cwd: bed.dir });
    assert.equal(renewed.status, 0, renewed.stderr);
    const { r, writes, writer } = await underWrites('rotate-certs.sh', ['--yes'], '/hosts/rotate/');
    assert.equal(r.status, 0, `${r.stderr}\n${bed.logs()}`);
    assertWrites(writer, writes, 10, 'rotate-certs.sh');
    for (const m of bed.members) {
      const served = bed.servedFingerprint(m);
      assert.notEqual(served, before[m], `${m} serves a new certificate`);
      const file = path.join(bed.out, 'nodes', m, 'root', 'etc', 'etcd', 'pki', 'server.crt');
      assert.equal(served, run('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', file]).stdout.trim(), `${m} serves this output's certificate`);
      const peer = bed.servedFingerprint(m, 2380);
      assert.notEqual(peer, peerBefore[m], `${m} serves a new peer certificate`);
      const peerFile = path.join(bed.out, 'nodes', m, 'root', 'etc', 'etcd', 'pki', 'peer.crt');
      assert.equal(peer, run('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', peerFile]).stdout.trim(), `${m} serves this output's peer certificate`);
    }
    // A restarted member joins its peers with its new peer certificate.
    const restarted = bed.ssh(bed.members[1] ?? 'h2', 'sudo -n systemctl restart etcd');
    assert.equal(restarted.status, 0, restarted.stderr);
    assert.ok(await bed.waitHealthy(), `the restarted member rejoined\n${bed.logs()}`);
    // The operator's first-time ssh recorded each member's host key (accept-new).
    const known = readFileSync(bed.knownHosts, 'utf8');
    for (const m of bed.members) assert.ok(known.includes(bed.host(m)), `known_hosts has ${m}`);
  });

  await t.test('replace-member.sh rebuilds a member whose host was killed hard, on a new VM at its address', async () => {
    const m = bed.members[0] ?? 'h1';
    await put(bed, '/hosts/before-kill', 'one');
    await bed.kill(m);
    const down = bed.runbook('health.sh');
    assert.equal(down.status, 1, down.stdout);
    assert.match(down.stdout, new RegExp(`^${m}\\s+\\S+\\s+false\\s`, 'm'));
    // A new VM at the same address, from the member's user-data: a new host key, which ssh refuses
    // until the operator removes the old one (accept-new trusts a first key only).
    bed.boot(m, { fresh: true });
    const status = await bed.waitCloudInit([m]);
    assert.match(status.get(m) ?? '', /status: done/, bed.logs());
    const refused = bed.ssh(m, 'true');
    assert.equal(refused.status, 255);
    assert.match(refused.stderr, /REMOTE HOST IDENTIFICATION HAS CHANGED/);
    assert.equal(run('ssh-keygen', ['-R', bed.host(m), '-f', bed.knownHosts]).status, 0);
    const { r, writes, writer } = await underWrites('replace-member.sh', [m, '--yes'], '/hosts/replace/');
    assert.equal(r.status, 0, `${r.stderr}\n${bed.logs()}`);
    assert.match(r.stderr, new RegExp(`${m} has joined`));
    assertWrites(writer, writes, 10, 'replace-member.sh');
    assert.ok(await bed.waitHealthy(), bed.logs());
    const local = bed.etcdctl(`etcdctl_${m}`, 'get /hosts/before-kill --print-value-only --consistency=s');
    assert.equal(local.stdout.trim(), 'one', `${m} holds the data written before it died`);
    assert.equal(bed.runbook('health.sh').status, 0);
  });

  await t.test('defrag.sh compacts and defragments every member, one at a time, while the client writes', async () => {
    const { r, writes, writer } = await underWrites('defrag.sh', ['--yes'], '/hosts/defrag/');
    assert.equal(r.status, 0, `${r.stderr}\n${bed.logs()}`);
    for (const m of bed.members) assert.match(r.stderr, new RegExp(`${m}: \\d+ -> \\d+ bytes`), `${m} was defragmented`);
    assert.match(r.stderr, /defragmented; no alarm/);
    assertWrites(writer, writes, 10, 'defrag.sh');
  });

  /** The members etcd lists, as "name started|unstarted" lines, sorted. */
  const listed = (): string[] => {
    const r = bed.etcdctl('etcdctl_cluster', 'member list -w simple');
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim().split('\n').map((l) => l.split(', ')).map((f) => `${f[2] ?? ''} ${f[1] ?? ''}`).sort();
  };

  await t.test('add-member.sh grows the cluster onto a new VM booted from its user-data; remove-member.sh shrinks it back', async () => {
    const spare = 'h4';
    const three = readFileSync(bed.configFile, 'utf8');
    const last = `  - { name: h3, host: ${bed.host('h3')} }\n`;
    assert.ok(three.includes(last), three);
    writeFileSync(bed.configFile, three.replace(last, `${last}  - { name: ${spare}, host: ${bed.host(spare)} }\n`));
    const grown = runCli(['build', 'cluster.yaml', '-o', 'out'], { cwd: bed.dir });
    assert.equal(grown.status, 0, grown.stderr);
    assert.match(grown.stderr, /runbooks\/add-member\.sh h4/, 'the build says what to run');
    // The new VM boots its user-data: etcd waits there until add-member.sh has added it.
    bed.boot(spare);
    const status = await bed.waitCloudInit([spare]);
    assert.match(status.get(spare) ?? '', /status: done/, bed.logs());
    const added = await underWrites('add-member.sh', [spare, '--yes'], '/hosts/add/');
    assert.equal(added.r.status, 0, `${added.r.stderr}\n${bed.logs()}`);
    assertWrites(added.writer, added.writes, 10, 'add-member.sh');
    assert.deepEqual(listed(), ['h1 started', 'h2 started', 'h3 started', 'h4 started']);
    const local = bed.etcdctl(`etcdctl_${spare}`, 'get /hosts/before-kill --print-value-only --consistency=s');
    assert.equal(local.stdout.trim(), 'one', `${spare} caught up`);
    assert.equal(bed.runbook('health.sh').status, 0);

    writeFileSync(bed.configFile, three);
    const shrunk = runCli(['build', 'cluster.yaml', '-o', 'out'], { cwd: bed.dir });
    assert.equal(shrunk.status, 0, shrunk.stderr);
    const removed = await underWrites('remove-member.sh', [spare, '--yes'], '/hosts/remove/');
    assert.equal(removed.r.status, 0, `${removed.r.stderr}\n${bed.logs()}`);
    assertWrites(removed.writer, removed.writes, 10, 'remove-member.sh');
    assert.deepEqual(listed(), ['h1 started', 'h2 started', 'h3 started']);
    assert.notEqual(bed.inside(spare, 'systemctl is-active etcd').stdout.trim(), 'active', `etcd is stopped on ${spare}`);
    assert.equal(bed.runbook('health.sh').status, 0);
    await bed.kill(spare);
  });

  // The timer on the newest release only: its units and script are the same for every release, and
  // test/live/backup.test.ts runs the script against each release.
  if (v === newestRelease) {
    await t.test('the backup timer takes checked snapshots on a real host and keeps the newest 2', async () => {
      const m = bed.members[1] ?? 'h2';
      // The README's deploy of backup/root/ (over ssh as the sudo user), then a drop-in of the test's own
      // so that the timer fires on the second (systemd's defaults spread runs over a minute).
      let r = bed.shell(`tar -C backup/root -cf - . | ssh ${bed.host(m)} 'sudo tar -xf - -C / --no-same-owner --no-overwrite-dir'`);
      assert.equal(r.status, 0, r.stderr);
      r = bed.ssh(m, "sudo mkdir -p /etc/systemd/system/etcd-backup.timer.d && printf '[Timer]\\nRandomizedDelaySec=0\\nAccuracySec=1s\\n' | sudo tee /etc/systemd/system/etcd-backup.timer.d/bed.conf >/dev/null && sudo systemctl daemon-reload && sudo systemctl enable --now etcd-backup.timer");
      assert.equal(r.status, 0, r.stderr);
      const unit = readFileSync(path.join(bed.out, 'backup', 'root', 'etc', 'systemd', 'system', 'etcd-backup.service'), 'utf8');
      const state = `/var/lib/${/^StateDirectory=(.*)$/m.exec(unit)?.[1] ?? 'etcd-backup'}`;
      const list = () => bed.inside(m, `ls ${state} 2>/dev/null | grep '\\.db$' || true`).stdout.trim().split('\n').filter(Boolean);
      let first = '';
      let files: string[] = [];
      for (let i = 0; i < 120; i++) {
        files = list();
        if (!first && files.length > 0) first = files[0] ?? '';
        if (first && files.length === 2 && !files.includes(first)) break;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      assert.ok(first, `a snapshot appeared in ${state}\n${bed.inside(m, 'journalctl -u etcd-backup --no-pager -n 20').stdout}`);
      assert.equal(files.length, 2, `keep: 2 (${files.join(' ')})`);
      assert.ok(!files.includes(first), `the oldest (${first}) was rotated out`);
      for (const f of files) {
        const check = bed.inside(m, `cd ${state} && sha256sum -c ${f}.sha256 && /usr/local/bin/etcdutl snapshot status ${f} -w json`);
        assert.equal(check.status, 0, `${f}: ${check.stdout}${check.stderr}`);
      }
      r = bed.ssh(m, 'sudo systemctl disable --now etcd-backup.timer');
      assert.equal(r.status, 0, r.stderr);
    });
  }

  await t.test('restore.sh rebuilds the whole cluster from the snapshot over ssh', async () => {
    // kube-apiserver is stopped for a restore (restore.sh says so), so no client writes here.
    const snapshot = path.join(bed.dir, 'snap.db');
    const started = Date.now();
    const r = bed.runbook('restore.sh', [snapshot, '--yes']);
    tm['restore.sh'] = Date.now() - started;
    report();
    t.diagnostic(`etcd ${v}: restore.sh: ${tm['restore.sh']} ms`);
    assert.equal(r.status, 0, `${r.stderr}\n${bed.logs()}`);
    assert.ok(await bed.waitHealthy(), bed.logs());
    for (const m of bed.members) {
      const before = bed.etcdctl(`etcdctl_${m}`, 'get /hosts/before-reboot --print-value-only --consistency=s');
      assert.equal(before.stdout.trim(), v, `${m} holds the key written before the snapshot`);
      const after = bed.etcdctl(`etcdctl_${m}`, 'get /hosts/before-kill --print-value-only --consistency=s');
      assert.equal(after.status, 0, after.stderr);
      assert.equal(after.stdout.trim(), '', `${m} no longer holds the key written after the snapshot`);
    }
    assert.equal(bed.runbook('health.sh').status, 0);
  });
});

testEachRelease('real hosts: day 1 by hand', '3.6', { timeout: 600_000 }, async (t, release) => {
  if (!release) return noMatrix(t);
  // Plain VMs: the image's default user with the operator's key, nothing of etcd-gen's.
  const bed = await startBed(t, { release, userData: () => '#cloud-config\n{}\n' });
  if (!bed) return;
  for (const m of bed.members) bed.boot(m);
  for (const [m, s] of await bed.waitCloudInit()) assert.match(s, /status: done/, `${m}: ${s}`);
  const readme = readFileSync(path.join(bed.out, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```bash\n([\s\S]*?)```/g)].map((x) => x[1] ?? '');
  const copy = blocks.find((b) => b.startsWith('# from the machine that holds this directory'))?.split('\n')[1] ?? '';
  const onMember = blocks.find((b) => b.startsWith(INSTALL_MARKER)) ?? '';
  assert.match(copy, /^tar .* ssh /, 'the README copies the overlay over ssh');
  assert.match(onMember, /systemctl start --no-block etcd/);
  const first = bed.members[0] ?? 'h1';
  const started = Date.now();
  for (const m of bed.members) {
    // etcd itself: "install etcd so that /usr/local/bin/etcd exists", here from the release tarball.
    let r = bed.shell(`ssh ${bed.host(m)} 'sudo tar -xzf - -C /usr/local/bin --strip-components=1 --no-same-owner' < ${bed.releaseTarball.file}`);
    assert.equal(r.status, 0, r.stderr);
    r = bed.shell(copy.replaceAll(`nodes/${first}/`, `nodes/${m}/`).replaceAll(` ${bed.host(first)} `, ` ${bed.host(m)} `), { timeout: 60_000 });
    assert.equal(r.status, 0, `${m}: the copy: ${r.stderr}`);
    // "On the member, as root": the sudo user runs the block through sudo; it must return at once (no
    // wait for a quorum that is not there yet).
    const t0 = Date.now();
    r = bed.ssh(m, 'sudo -n sh -es', { input: onMember, timeout: 60_000 });
    assert.equal(r.status, 0, `${m}: the README's commands: ${r.stdout}${r.stderr}`);
    t.diagnostic(`etcd ${release.version}: by hand, ${m}'s commands returned in ${Date.now() - t0} ms`);
    assert.ok(Date.now() - t0 < 30_000, `${m}: the commands returned without waiting for a quorum`);
  }
  assert.ok(await bed.waitHealthy(), `the cluster deployed by hand is healthy\n${bed.logs()}`);
  t.diagnostic(`etcd ${release.version}: by hand, first copy to healthy ${Date.now() - started} ms`);
  const put = bed.etcdctl('etcdctl_cluster', 'put /hosts/by-hand yes');
  assert.equal(put.status, 0, put.stderr);
  for (const m of bed.members) {
    assert.equal(bed.inside(m, 'systemctl is-enabled etcd').stdout.trim(), 'enabled');
    assert.equal(bed.inside(m, 'stat -c %U:%a /etc/etcd/pki/server.key').stdout.trim(), 'etcd:600', `${m}: the key's owner and mode`);
  }
});

/** bookworm's etcd-server and etcd-client, the one release the package route can install there. */
const DEBIAN_ETCD = '3.4.23';

test(`real hosts: day 1 by cloud-init with the package route (Debian's etcd ${DEBIAN_ETCD}, from a local apt repository)`, { timeout: 600_000 }, async (t) => {
  const asked = (process.env.ETCD_GEN_TEST_ETCD ?? '').split(',').filter(Boolean);
  if (asked.length > 0 && !asked.includes(DEBIAN_ETCD)) return t.skip(`ETCD_GEN_TEST_ETCD leaves out ${DEBIAN_ETCD}`);
  if (!bedAvailable(t)) return;
  const release = cachedRelease(DEBIAN_ETCD);
  if (!release) return noMatrix(t);
  const bed = await startBed(t, { release, install: 'package' });
  if (!bed) return;
  const started = Date.now();
  for (const m of bed.members) bed.boot(m);
  for (const [m, s] of await bed.waitCloudInit()) assert.match(s, /status: done/, `${m}: cloud-init finished without error:\n${s}\n${bed.logs()}`);
  assert.ok(await bed.waitHealthy(), `the cluster became healthy\n${bed.logs()}`);
  t.diagnostic(`etcd ${DEBIAN_ETCD} (package): boot to healthy by cloud-init ${Date.now() - started} ms`);
  for (const m of bed.members) {
    assert.match(bed.inside(m, "dpkg-query -W -f '${Status} ${Version}' etcd-server").stdout, /install ok installed 3\.4\.23/, `${m}: Debian's package is installed`);
    assert.equal(bed.inside(m, 'systemctl show -p FragmentPath --value etcd').stdout.trim(), '/etc/systemd/system/etcd.service', `${m} runs etcd-gen's unit, not the package's`);
    assert.match(bed.inside(m, 'test ! -e /usr/sbin/policy-rc.d && echo gone').stdout, /gone/, `${m}: the policy-rc.d of the install step is gone`);
  }
  const put = bed.etcdctl('etcdctl_cluster', 'put /hosts/package yes');
  assert.equal(put.status, 0, put.stderr);
});
