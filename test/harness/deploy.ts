/**
 * The generated README's deploy steps, run for real: the commands that set owners and modes on a member
 * run as root in a private mount namespace, where the member's paths are bind mounts of test directories
 * and /etc/passwd and /etc/group name an `etcd` user with a test uid. The host is never changed.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { SpawnSyncReturns } from 'node:child_process';
import { run } from '../helpers.js';

export const INSTALL_MARKER = '# On the member, as root';

/** The README's "on the member" shell block, without the systemctl line (there is no systemd here). */
export function memberInstallCommands(readme: string): string {
  const block = [...readme.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1] ?? '').find((b) => b.startsWith(INSTALL_MARKER));
  assert.ok(block, `the README has a shell block starting with "${INSTALL_MARKER}"`);
  return block
    .split('\n')
    .filter((line) => !line.startsWith('systemctl '))
    .join('\n');
}

/** Mode bits as a git checkout with umask 022 leaves them: what the README's commands must repair. */
export function checkoutModes(dir: string): void {
  const r = run('chmod', ['-R', 'u=rwX,go=rX', dir]);
  assert.equal(r.status, 0, r.stderr);
}

/**
 * Runs the README's install commands with `binds` ([test directory, path on the member]) mounted, as if
 * the member's user `etcd` had the given uid and gid. Mount points are created on the host if missing
 * (empty directories at the member's paths).
 */
/** Copies of /etc/passwd and /etc/group in `scratch` that name an `etcd` user and group with this uid. */
export function etcUsersWith(uid: number, scratch: string): { passwd: string; group: string } {
  const withEtcd = (file: string, line: string): string => {
    const host = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('etcd:'));
    const out = path.join(scratch, path.basename(file));
    writeFileSync(out, [...host, line, ''].join('\n'));
    return out;
  };
  return {
    passwd: withEtcd('/etc/passwd', `etcd:x:${uid}:${uid}::/var/lib/etcd:/usr/sbin/nologin`),
    group: withEtcd('/etc/group', `etcd:x:${uid}:`),
  };
}

export function runInstallCommands(readme: string, binds: [string, string][], uid: number, scratch: string): SpawnSyncReturns<string> {
  const { passwd, group } = etcUsersWith(uid, scratch);
  const mounts = [
    `mount --bind "${passwd}" /etc/passwd`,
    `mount --bind "${group}" /etc/group`,
    ...binds.map(([from, to]) => `mkdir -p "${to}" && mount --bind "${from}" "${to}"`),
  ].join('\n');
  const script = `set -e\n${mounts}\nbash -eu -c "$1"`;
  return run('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', memberInstallCommands(readme)]);
}
