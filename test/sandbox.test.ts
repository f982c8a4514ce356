/**
 * The unit's sandbox fits etcd: one member of a live loopback cluster runs under strace while it is
 * used as operators use it (writes, reads, compaction, defragmentation, a snapshot, metrics, a clean
 * stop), and everything it did is checked against the generated unit: every system call is in its
 * SystemCallFilter=, every socket family in RestrictAddressFamilies=, no memory is both writable and
 * executable (MemoryDenyWriteExecute=), and it writes only to its data dir (ProtectSystem=strict).
 * systemd itself does not run here; this is the evidence that the directives will not break etcd.
 */
import assert from 'node:assert/strict';
import { chmodSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { needTools, run, tempDir } from './helpers.js';
import { startLoopbackCluster } from './harness/cluster.js';
import { testEachRelease } from './harness/releases.js';

/** Every system call group systemd knows, expanded to system call names. */
function syscallGroups(): Map<string, Set<string>> {
  const r = run('systemd-analyze', ['syscall-filter', '--no-pager']);
  assert.equal(r.status, 0, r.stderr);
  const raw = new Map<string, string[]>();
  let current: string[] | null = null;
  for (const line of r.stdout.split('\n')) {
    const header = /^(@[a-z-]+)$/.exec(line);
    if (header?.[1]) raw.set(header[1], (current = []));
    else if (current && /^\s+[@a-z0-9_-]+$/.test(line)) current.push(line.trim());
  }
  const expand = (name: string, seen = new Set<string>()): Set<string> => {
    if (!name.startsWith('@')) return new Set([name]);
    if (seen.has(name)) return new Set();
    seen.add(name);
    return new Set((raw.get(name) ?? assert.fail(`systemd knows no group ${name}`)).flatMap((n) => [...expand(n, seen)]));
  };
  return new Map([...raw.keys()].map((g) => [g, expand(g)]));
}

/**
 * A name from the trace, with strace's one known misreading undone. When a signal lands in a sleeping
 * system call, the kernel leaves -ERESTART_RESTARTBLOCK (-516) in the register strace reads the call's
 * number from, and resumes the call as restart_syscall; strace, losing step there, prints it as
 * `syscall_0xfffffffffffffdfc`. The filter sees restart_syscall. Any other unknown number stays as
 * printed, so the check below still fails on it.
 */
function syscallName(name: string): string {
  const n = /^syscall_0x([0-9a-f]+)$/.exec(name)?.[1];
  return n !== undefined && BigInt.asIntN(64, BigInt(`0x${n}`)) === -516n ? 'restart_syscall' : name;
}

/** The values of every `key=` line of the unit, in order. */
const unitValues = (unit: string, key: string): string[] =>
  unit
    .split('\n')
    .filter((l) => l.startsWith(`${key}=`))
    .map((l) => l.slice(key.length + 1));

testEachRelease("etcd runs within the generated unit's sandbox", 'every', { timeout: 900_000 }, async (t, release) => {
  if (!needTools(t, ['strace', 'prlimit', 'systemd-analyze'])) return;
  const traces = tempDir(t, 'etcd-gen-strace-');
  chmodSync(traces, 0o1777); // the member's user writes its trace here
  const trace = path.join(traces, 'm1.trace');
  // A soft open-file limit below the hard one, as an operator's LimitNOFILE=soft:hard gives: Go raises it
  // with setrlimit at start, which the filter must allow.
  const cluster = await startLoopbackCluster(t, { name: 'sandbox', execPrefix: (m) => (m === 'm1' ? `prlimit --nofile=1024: strace -f -qq -o ${trace}` : ''), release });
  if (!cluster) return;

  // Use m1 as operators do, then stop it cleanly so the trace is complete.
  const steps = [
    'put /sandbox/a 1',
    'put /sandbox/b 2',
    'get /sandbox --prefix',
    'lease grant 60',
    'endpoint status -w json',
    'member list',
    'alarm list',
    'defrag',
    `snapshot save ${path.join(traces, 'snap.db')}`,
  ];
  for (const step of steps) {
    const r = cluster.etcdctl('etcdctl_m1', step);
    assert.equal(r.status, 0, `etcdctl ${step}: ${r.stderr}\n${cluster.logs()}`);
  }
  const revision = /"revision":(\d+)/.exec(cluster.etcdctl('etcdctl_m1', 'endpoint status -w json').stdout)?.[1];
  assert.ok(revision);
  assert.equal(cluster.etcdctl('etcdctl_m1', `compact ${revision}`).status, 0);
  const metricsUrl = /^ETCD_LISTEN_METRICS_URLS=(.*)$/m.exec(readFileSync(path.join(cluster.out, 'nodes', 'm1', 'root', 'etc', 'etcd', 'etcd.conf'), 'utf8'))?.[1];
  const metrics = cluster.ns(process.execPath, ['-e', `require('http').get(${JSON.stringify(`${metricsUrl}/metrics`)}, (r) => { r.resume(); r.on('end', () => console.log(r.statusCode)); })`]);
  assert.equal(metrics.stdout.trim(), '200', metrics.stderr);
  await cluster.stop('m1');

  const lines = readFileSync(trace, 'utf8').split('\n');
  assert.ok(lines.length > 1000, `a full trace (${lines.length} lines)`);
  // etcd cleans up on SIGTERM, then dies of the signal it re-raises: the trace is complete.
  const pid = /^(\d+) /.exec(lines[0] ?? '')?.[1];
  assert.ok(lines.some((l) => new RegExp(`^${pid}\\s+\\+\\+\\+ (exited with 0|killed by SIGTERM) \\+\\+\\+`).test(l)), `etcd stopped and the trace is complete:\n${lines[0]}\n${lines.slice(-6).join('\n')}`);
  const unit = readFileSync(path.join(cluster.out, 'nodes', 'm1', 'root', 'etc', 'systemd', 'system', 'etcd.service'), 'utf8');

  // SystemCallFilter=: an allow list, then deny lists.
  const groups = syscallGroups();
  const filters = unitValues(unit, 'SystemCallFilter');
  assert.ok(filters.length > 0 && !filters[0]?.startsWith('~'), 'the unit starts with an allow list');
  const names = (items: string): string[] => items.replace(/^~/, '').split(/\s+/).flatMap((n) => [...(groups.get(n) ?? [n])]);
  const allowed = new Set(names(filters[0] ?? ''));
  for (const deny of filters.slice(1)) for (const n of names(deny)) allowed.delete(n);
  const used = new Set(lines.map((l) => /^\d+ +(?:<\.\.\. )?([a-z0-9_]+)(?:\(| resumed>)/.exec(l)?.[1]).filter((n): n is string => n !== undefined).map(syscallName));
  assert.ok(used.size > 30, `${used.size} different system calls`);
  // Go raises the open-file limit: with setrlimit, or prlimit64 (newer Go releases).
  assert.ok(used.has('setrlimit') || used.has('prlimit64'), 'Go raised the open-file limit');
  assert.deepEqual([...used].filter((n) => !allowed.has(n)).sort(), [], 'system calls the filter would refuse');

  // RestrictAddressFamilies=.
  const families = new Set((unitValues(unit, 'RestrictAddressFamilies')[0] ?? '').split(/\s+/));
  const opened = new Set(lines.map((l) => /\bsocket\((AF_[A-Z0-9]+)/.exec(l)?.[1]).filter((f): f is string => f !== undefined));
  assert.ok(opened.has('AF_INET'));
  assert.deepEqual([...opened].filter((f) => !families.has(f)), [], 'socket families the unit refuses');

  // MemoryDenyWriteExecute=: no writable+executable mapping, no mprotect to executable.
  assert.deepEqual(unitValues(unit, 'MemoryDenyWriteExecute'), ['yes']);
  const wx = lines.filter((l) => /\bmmap\(.*PROT_WRITE\|PROT_EXEC|\b(?:pkey_)?mprotect\(.*PROT_EXEC/.test(l));
  assert.deepEqual(wx, [], 'writable and executable memory');

  // ProtectSystem=strict: writes only below the data dir (StateDirectory= or ReadWritePaths=).
  assert.deepEqual(unitValues(unit, 'ProtectSystem'), ['strict']);
  const writable = [...unitValues(unit, 'StateDirectory').map((d) => `/var/lib/${d}`), ...unitValues(unit, 'ReadWritePaths')];
  assert.deepEqual(writable, ['/var/lib/etcd']);
  const writes = lines
    .map((l) => {
      const open = /\bopenat\(AT_FDCWD, "([^"]+)", ([A-Z_|]+)/.exec(l);
      if (open) return /O_WRONLY|O_RDWR|O_CREAT|O_TRUNC/.test(open[2] ?? '') ? open[1] : undefined;
      return /\b(?:mkdirat|unlinkat|renameat2?|linkat|symlinkat|fchmodat|truncate)\(AT_FDCWD, "([^"]+)"/.exec(l)?.[1];
    })
    .filter((p): p is string => p !== undefined);
  assert.ok(writes.length > 5, 'the trace shows etcd writing its data');
  assert.deepEqual(writes.filter((p) => !writable.some((dir) => p.startsWith(`${dir}/`))), [], 'writes outside the data dir');

  // ProtectHome=: nothing under the home directories.
  assert.deepEqual(lines.filter((l) => /"\/(home|root|run\/user)\//.test(l)), []);
});

test("reads strace's restarted-call artifact as restart_syscall, and nothing else", () => {
  assert.equal(syscallName('syscall_0xfffffffffffffdfc'), 'restart_syscall');
  assert.equal(syscallName('syscall_0xfffffffffffffdfd'), 'syscall_0xfffffffffffffdfd', 'another errno stays unknown');
  assert.equal(syscallName('syscall_0x1c3'), 'syscall_0x1c3', 'an unknown number stays unknown');
  assert.equal(syscallName('futex'), 'futex');
});
