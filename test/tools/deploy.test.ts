/**
 * The generated README's deploy commands, run as root in a mount namespace, give every member path the
 * owner and mode the model says, after a copy that kept none.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { build } from '../../src/pipeline.js';
import { minimalCluster, needTools, tempDir } from '../helpers.js';
import { checkoutModes, runInstallCommands } from '../harness/deploy.js';

test("the README's deploy commands give every member path the owner and mode the model says", async (t) => {
  if (!needTools(t, ['unshare', 'mount', 'bash', 'install', 'chown'], { root: true })) return;
  const dir = tempDir(t);
  writeFileSync(path.join(dir, 'cluster.yaml'), minimalCluster);
  const { model } = await build({ configFile: path.join(dir, 'cluster.yaml'), outDir: path.join(dir, 'out') });
  const member = model.members[0];
  assert.ok(member);
  // What a git checkout and `rsync -r` leave on the member: the files, with no owner or mode of note.
  const copy = path.join(dir, 'member');
  cpSync(path.join(dir, 'out', member.overlayDir), copy, { recursive: true });
  checkoutModes(copy);
  const data = path.join(dir, 'data');
  mkdirSync(data, { mode: 0o755 });
  const binds: [string, string][] = [
    [path.join(copy, model.paths.etc.slice(1)), model.paths.etc],
    [path.join(copy, 'etc', 'systemd', 'system'), '/etc/systemd/system'],
    [data, model.paths.data],
  ];
  // A uid no real user has (the e2e harness's users are below it).
  const uid = 40000 + (process.pid % 1000) * 16 + 15;
  const r = runInstallCommands(readFileSync(path.join(dir, 'out', 'README.md'), 'utf8'), binds, uid, mkdtempSync(path.join(dir, 'install-')));
  assert.equal(r.status, 0, r.stderr);

  const local = (memberPath: string): string => {
    const bind = binds.find(([, to]) => memberPath === to || memberPath.startsWith(`${to}/`));
    assert.ok(bind, memberPath);
    return path.join(bind[0], memberPath.slice(bind[1].length));
  };
  const id = (name: string): number => (name === 'root' ? 0 : name === model.install.user ? uid : -1);
  const paths = [...model.install.directories, ...model.install.files];
  assert.equal(paths.length, 11, 'three directories and eight files (the bootstrap guard among them)');
  for (const p of paths) {
    const st = statSync(local(p.path));
    assert.deepEqual([st.uid, st.gid, `0${(st.mode & 0o777).toString(8)}`], [id(p.user), id(p.group), p.modeText], p.path);
  }
});
