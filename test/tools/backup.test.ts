/**
 * out/backup/root/: the backup host's script, service and timer, checked by the tools that run them
 * (shellcheck, systemd-analyze verify, security and calendar; verify as root in a mount namespace).
 * What etcd-gen writes there is test/backup.test.ts (hermetic).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import { build } from '../../src/pipeline.js';
import { minimalCluster, needTools, run, tempDir } from '../helpers.js';

it('the backup script passes shellcheck, its units systemd verifies, and its sandbox is rated 2.0 or lower', async (t) => {
  if (!needTools(t, ['shellcheck', 'systemd-analyze'])) return;
  const dir = tempDir(t);
  writeFileSync(path.join(dir, 'cluster.yaml'), `${minimalCluster}backup: { enabled: true, keep: 14, onCalendar: "*-*-* 02:30:00" }\n`);
  await build({ configFile: path.join(dir, 'cluster.yaml'), outDir: path.join(dir, 'out') });
  const root = path.join(dir, 'out', 'backup', 'root');
  const script = path.join(root, 'usr', 'local', 'sbin', 'etcd-backup');
  const units = path.join(root, 'etc', 'systemd', 'system');
  const sc = run('shellcheck', [script]);
  assert.equal(sc.status, 0, sc.stdout);
  const security = run('systemd-analyze', ['security', '--offline=true', '--no-pager', path.join(units, 'etcd-backup.service')]);
  const exposure = /Overall exposure level for etcd-backup\.service: (\d+\.\d)/.exec(security.stdout)?.[1];
  assert.ok(exposure && Number(exposure) <= 2.0, `exposure ${exposure}:\n${security.stdout}`);
  const calendar = run('systemd-analyze', ['calendar', '*-*-* 02:30:00']);
  assert.equal(calendar.status, 0, calendar.stderr);
  // verify wants ExecStart= to exist: the script is put at its path in a mount namespace of the test's.
  if (!needTools(t, ['unshare', 'mount'], { root: true })) return;
  const verified = run('unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'mount --bind "$1" /usr/local/sbin && systemd-analyze verify "$2/etcd-backup.service" "$2/etcd-backup.timer"', 'sh', path.dirname(script), units]);
  assert.equal(verified.status, 0, verified.stderr);
  assert.equal(verified.stderr.trim(), '', 'no warnings');
});
