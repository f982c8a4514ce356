/**
 * The phases of `etcd-gen import` (src/procedure/import.ts), each on env files made here: no cfssl (the
 * whole import on cfssl's own files is test/tools/import.test.ts). The CA is one etcd-gen issued.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { Diagnostic } from '../src/diagnostics.js';
import { formatDiagnostic, InputError } from '../src/diagnostics.js';
import {
  checkCa,
  checkConfsAgainstMembers,
  clusterMembers,
  clusterYamlLines,
  importProcedure,
  parseConfs,
  sharedCertificates,
  sharedFields,
  validateImported,
  type ProcedureFiles,
} from '../src/procedure/import.js';
import { fixedSecrets, minimalCluster } from './helpers.js';

const NODES = ['a1-etcd1', 'a1-etcd2', 'a1-etcd3'];
const conf = (name: string, extra: Partial<Record<string, string>> = {}): string => {
  const fields: Record<string, string> = {
    NODE_ADDRESS: `https://${name}.lan:2380`,
    NODE_NAME: name,
    CLUSTER_NODES: NODES.map((n) => `${n}=https://${n}.lan:2380`).join(','),
    CLUSTER_TOKEN: 'tok-1',
    CLIENT_PORT: '2379',
    PEERS_PORT: '2380',
  };
  return Object.entries({ ...fields, ...extra }).map(([k, v]) => `${k}=${v}`).join('\n') + '\n';
};
const env = (confs: [string, string][], ca: { cert: string | null; key: string | null } = { cert: null, key: null }): ProcedureFiles => ({
  dir: 'env',
  confs: new Map(confs),
  caCert: ca.cert,
  caKey: ca.key,
  csr: null,
  sharedCerts: new Map(),
});
const threeConfs = (): [string, string][] => NODES.map((n) => [`env/${n}.conf`, conf(n)]);
const shown = (ds: readonly Diagnostic[]): string[] => ds.map(formatDiagnostic);

async function ca(): Promise<{ cert: string; key: string }> {
  const dir = await fixedSecrets(minimalCluster);
  return { cert: readFileSync(path.join(dir, 'ca.crt'), 'utf8'), key: readFileSync(path.join(dir, 'ca.key'), 'utf8') };
}

describe('import, phase by phase', () => {
  it('parseConfs: reads every file, notes an unknown key, and refuses an empty directory', () => {
    const ds: Diagnostic[] = [];
    const notes: string[] = [];
    const confs = parseConfs(env([['env/a1-etcd1.conf', `${conf('a1-etcd1')}EXTRA=1\n`]]), ds, notes);
    assert.deepEqual(shown(ds), []);
    assert.equal(confs[0]?.fields.NODE_NAME?.value, 'a1-etcd1');
    assert.equal(notes.length, 1);
    assert.match(notes[0] ?? '', /EXTRA/);
    const none: Diagnostic[] = [];
    assert.deepEqual(parseConfs(env([]), none, []), []);
    assert.equal(none.length, 1);
  });

  it('sharedFields: a token that differs is a problem at the later file, and a port must be one', () => {
    const ds: Diagnostic[] = [];
    const confs = parseConfs(env([['env/a.conf', conf('a1-etcd1')], ['env/b.conf', conf('a1-etcd2', { CLUSTER_TOKEN: 'tok-2', CLIENT_PORT: '99999' })]]), ds, []);
    const fields = sharedFields(confs, ds);
    assert.equal(fields.token.value, 'tok-1');
    assert.deepEqual([fields.clientPort, fields.peerPort], [2379, 2380]);
    const problems = shown(ds);
    assert.equal(problems.length, 3, problems.join('\n'));
    assert.ok(problems.some((p) => p.startsWith('env/b.conf:4:') && /CLUSTER_TOKEN/.test(p)), problems.join('\n'));
    assert.ok(problems.filter((p) => p.startsWith('env/b.conf:5:') && /CLIENT_PORT/.test(p)).length === 2, problems.join('\n'));
  });

  it('clusterMembers: each entry of CLUSTER_NODES at its column; a bad entry, a duplicate and another peer port are problems', () => {
    const ds: Diagnostic[] = [];
    const [c] = parseConfs(env([['env/a.conf', conf('a1-etcd1', { CLUSTER_NODES: 'm1=https://h1:2380,bad,m1=https://h2:2380,m3=https://h3:2999' })]]), ds, []);
    assert.ok(c);
    const got = clusterMembers(c.fields.CLUSTER_NODES ?? assert.fail(), 2380, ds);
    assert.deepEqual(got.members.map((x) => `${x.name} ${x.host} ${x.origin.column}`), ['m1 h1 15', 'm1 h2 38', 'm3 h3 57']);
    assert.equal(got.badEntries, true);
    assert.equal(ds.length, 3, shown(ds).join('\n'));
    assert.deepEqual(ds.map((d) => d.position.column), [34, 38, 57]);
  });

  it('checkConfsAgainstMembers: a file of no member, a member twice, another address; a member without a file is a note', () => {
    const ds: Diagnostic[] = [];
    const notes: string[] = [];
    const files = env([
      ['env/1.conf', conf('a1-etcd1')],
      ['env/1b.conf', conf('a1-etcd1')],
      ['env/2.conf', conf('a1-etcd2', { NODE_ADDRESS: 'https://elsewhere.lan:2380' })],
      ['env/x.conf', conf('stranger')],
    ]);
    const confs = parseConfs(files, ds, notes);
    const fields = sharedFields(confs, ds);
    const { members, badEntries } = clusterMembers(fields.clusterNodes, fields.peerPort, ds);
    checkConfsAgainstMembers(confs, { members, badEntries, clusterNodes: fields.clusterNodes, peerPort: fields.peerPort }, ds, notes);
    assert.deepEqual(ds.map((d) => `${d.file} ${d.pointer}`), ['env/1b.conf /NODE_NAME', 'env/2.conf /NODE_ADDRESS', 'env/x.conf /NODE_NAME']);
    assert.equal(notes.length, 1);
    assert.match(notes[0] ?? '', /a1-etcd3/);
  });

  it('checkCa: missing halves, a key of another CA, and a good pair giving its key type', async () => {
    const good = await ca();
    const missing: Diagnostic[] = [];
    assert.equal(checkCa(env([], { cert: null, key: good.key }), missing), null);
    assert.deepEqual(missing.map((d) => d.file), ['env/ca.pem']);
    const ok: Diagnostic[] = [];
    assert.equal(checkCa(env([], good), ok), 'ecdsa-p256');
    assert.deepEqual(shown(ok), []);
    const other = await fixedSecrets(minimalCluster.replace('name: test', 'name: other'));
    const mismatch: Diagnostic[] = [];
    checkCa(env([], { cert: good.cert, key: readFileSync(path.join(other, 'ca.key'), 'utf8') }), mismatch);
    assert.deepEqual(mismatch.map((d) => d.file), ['env/ca-key.pem']);
  });

  it('sharedCertificates: names beyond the members and loopback become extraSANs; an unreadable certificate is a note', () => {
    const notes: string[] = [];
    const files = { ...env([]), csr: JSON.stringify({ hosts: ['localhost', '127.0.0.1', 'a1-etcd1.lan', 'lb.lan', 'lb.lan', '10.0.0.9'] }), sharedCerts: new Map([['env/etcd-peer.pem', 'not a certificate']]) };
    const got = sharedCertificates(files, [{ name: 'a1-etcd1', host: 'a1-etcd1.lan', origin: { value: '', file: 'env/a.conf', line: 3, column: 15 } }], notes);
    assert.deepEqual(got.extraSANs, ['lb.lan', '10.0.0.9']);
    assert.deepEqual(got.sharedCerts, []);
    assert.equal(notes.length, 1);
  });

  it('clusterYamlLines and validateImported: every value keeps its origin, and a problem is reported there', () => {
    const ds: Diagnostic[] = [];
    const files = env(threeConfs());
    const confs = parseConfs(files, ds, []);
    const fields = sharedFields(confs, ds);
    const { members } = clusterMembers(fields.clusterNodes, fields.peerPort, ds);
    const lines = clusterYamlLines(files, { etcdVersion: '3.5.16', configFile: 'cluster.yaml' }, { fields, members, caType: 'ecdsa-p256', extraSANs: [] });
    assert.ok(lines.some((l) => l.text.startsWith('token: "tok-1"') && l.origin?.file === 'env/a1-etcd1.conf' && l.origin.line === 4));
    assert.match(validateImported(lines, 'cluster.yaml').clusterYaml, /^name: "a1" /m);
    const badVersion = clusterYamlLines(files, { etcdVersion: '2.0.0', configFile: 'cluster.yaml' }, { fields, members, caType: 'ecdsa-p256', extraSANs: [] });
    assert.throws(() => validateImported(badVersion, 'cluster.yaml'), (err) => err instanceof InputError && err.diagnostics.every((d) => d.file === 'cluster.yaml'));
  });

  it('importProcedure: the phases in order, every problem of a phase reported at once', async () => {
    const result = importProcedure(env(threeConfs(), await ca()), { etcdVersion: '3.5.16', configFile: 'cluster.yaml' });
    assert.match(result.clusterYaml, /^  key: ecdsa-p256 /m);
    assert.throws(
      () => importProcedure(env([['env/x.conf', conf('stranger')]]), { etcdVersion: '3.5.16', configFile: 'cluster.yaml' }),
      (err) => err instanceof InputError && err.diagnostics.length === 2 && err.diagnostics.some((d) => d.file === 'env/ca.pem'),
    );
  });
});
