/**
 * etcd-gen import: the manual procedure's env directory (made with cfssl as its steps make it) becomes a
 * cluster.yaml that builds, with the CA kept; every odd or missing field is a message at its file and line.
 */
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { build } from '../../src/pipeline.js';
import { formatDiagnostic, InputError } from '../../src/diagnostics.js';
import { clusterNameFrom, importProcedure, readProcedureDir, type ProcedureFiles } from '../../src/procedure/import.js';
import { hasTool, isCI, readTree, runCli, tempDir } from '../helpers.js';
import { makeProcedureEnv, PROCEDURE_TOKEN } from '../harness/procedure.js';

const NODES = ['k8s1-etcd1.k8s.lan', 'k8s1-etcd2.k8s.lan', 'k8s1-etcd3.k8s.lan'].map((n) => ({ name: n, host: n }));
const haveCfssl = hasTool('cfssl') && hasTool('cfssljson');
let root = '';
let env = '';
let files: ProcedureFiles;

function problems(f: ProcedureFiles, options: Partial<Parameters<typeof importProcedure>[1]> = {}): string[] {
  try {
    importProcedure(f, { etcdVersion: '3.5.16', configFile: 'cluster.yaml', ...options });
  } catch (err) {
    assert.ok(err instanceof InputError, `expected InputError, got ${String(err)}`);
    return err.diagnostics.map(formatDiagnostic);
  }
  assert.fail('expected the import to be refused');
}

/** The env files with one conf's text changed. */
function withConf(name: string, edit: (text: string) => string): ProcedureFiles {
  const confs = new Map(files.confs);
  const file = path.join(env, `${name}.conf`);
  confs.set(file, edit(confs.get(file) ?? ''));
  return { ...files, confs };
}

const skipWhy = !haveCfssl && !isCI ? 'needs cfssl and cfssljson (golang-cfssl); .ci/run installs them' : false;
if (skipWhy) process.stderr.write(`\n!!! SKIPPED "import": ${skipWhy}. This check did NOT run. !!!\n\n`);
describe('import', { skip: skipWhy }, () => {
  before(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'etcd-gen-import-'));
    env = makeProcedureEnv(root, NODES, { keyBits: 2048 });
    files = await readProcedureDir(env);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('describes the cluster, keeps its CA, and the cluster.yaml builds with leaves that CA signed', async (t) => {
    const dir = tempDir(t);
    const config = path.join(dir, 'cluster.yaml');
    const r = runCli(['import', env, '--etcd-version', '3.5.16', '-o', config]);
    assert.equal(r.status, 0, r.stderr);
    const yaml = readFileSync(config, 'utf8');
    assert.match(yaml, new RegExp(`^token: "${PROCEDURE_TOKEN}" +# CLUSTER_TOKEN, .*k8s1-etcd1\\.k8s\\.lan\\.conf:4$`, 'm'));
    assert.match(yaml, /^name: "k8s1" /m);
    for (const n of NODES) assert.match(yaml, new RegExp(`  - name: "${n.name}"\\n    host: "${n.host}"\\n`));
    assert.match(yaml, /^  client: 2379 +# CLIENT_PORT, .*:5$/m);
    assert.match(yaml, /^  peer: 2380 +# PEERS_PORT, .*:6$/m);
    assert.match(yaml, /^  key: rsa-2048 /m);
    assert.match(yaml, /^  extraSANs: \["k8s1-etcd-lb\.k8s\.lan"\]/m);
    assert.match(r.stderr, /--revoke .*etcd-peer\.pem --revoke .*etcd-client\.pem/);
    assert.match(r.stderr, /etcd3\.service.*is not read/);
    const secrets = path.join(dir, 'secrets');
    assert.equal(statSync(secrets).mode & 0o777, 0o700);
    assert.equal(statSync(path.join(secrets, 'ca.key')).mode & 0o777, 0o600);
    assert.equal(readFileSync(path.join(secrets, 'ca.crt'), 'utf8'), readFileSync(path.join(env, 'ca.pem'), 'utf8'));

    const result = await build({ configFile: config, outDir: path.join(dir, 'out') });
    assert.equal(result.pki.pairs.get('ca')?.action, 'reused');
    const ca = new X509Certificate(readFileSync(path.join(env, 'ca.pem')));
    const tree = readTree(path.join(dir, 'out'));
    for (const n of NODES) {
      const server = new X509Certificate(tree.get(`nodes/${n.name}/root/etc/etcd/pki/server.crt`)?.contents ?? '');
      assert.ok(server.verify(ca.publicKey), `${n.name}: signed by the procedure's CA`);
      assert.ok(server.checkHost(n.host) && server.checkHost('k8s1-etcd-lb.k8s.lan'));
      assert.match(tree.get(`nodes/${n.name}/root/etc/etcd/etcd.conf`)?.contents ?? '', new RegExp(`^ETCD_INITIAL_CLUSTER_TOKEN=${PROCEDURE_TOKEN}$`, 'm'));
    }
    // Never over an existing file or CA.
    const again = runCli(['import', env, '--etcd-version', '3.5.16', '-o', config]);
    assert.equal(again.status, 2);
    assert.match(again.stderr, /cluster\.yaml:1:1: \$: already exists, and an import never replaces a file or a CA/);
  });

  it('names runbooks/takeover.sh for the move, and build --revoke of a shared certificate waits for the record of it', async (t) => {
    const dir = tempDir(t);
    const imported = runCli(['import', env, '--etcd-version', '3.5.16', '-o', 'cluster.yaml'], { cwd: dir });
    assert.equal(imported.status, 0, imported.stderr);
    assert.match(imported.stderr, /next: etcd-gen build cluster\.yaml -o out, then out\/runbooks\/takeover\.sh/);
    assert.doesNotMatch(imported.stderr, /chown|stop and disable/, "no move by hand");
    assert.match(readFileSync(path.join(dir, 'cluster.yaml'), 'utf8'), /runbooks\/takeover\.sh/);
    const record = JSON.parse(readFileSync(path.join(dir, 'secrets', 'procedure-certs.json'), 'utf8')) as { sharedCertificates: { serial: string }[] };
    assert.equal(record.sharedCertificates.length, 2, 'the shared peer and client certificates are recorded');
    assert.equal(runCli(['build', 'cluster.yaml', '-o', 'out'], { cwd: dir }).status, 0);

    const revoke = () => runCli(['build', 'cluster.yaml', '-o', 'out', '--revoke', path.join(env, 'etcd-client.pem')], { cwd: dir });
    const before = revoke();
    assert.equal(before.status, 2, before.stderr);
    assert.match(before.stderr, /etcd-client\.pem is one of the manual procedure's shared certificates .*there is no out\/takeover\.json .*Run out\/runbooks\/takeover\.sh first/);
    assert.ok(!existsSync(path.join(dir, 'secrets', 'ca.crl')), 'nothing revoked');
    // A record that misses a member (one added since) is not enough either.
    const write = (moved: string[]) => writeFileSync(path.join(dir, 'out', 'takeover.json'), JSON.stringify({ generator: 'etcd-gen runbooks/takeover.sh', moved }));
    write(NODES.slice(0, 2).map((n) => n.name));
    const partial = revoke();
    assert.equal(partial.status, 2, partial.stderr);
    assert.match(partial.stderr, /out\/takeover\.json does not list k8s1-etcd3\.k8s\.lan as moved/);
    write(NODES.map((n) => n.name));
    const moved = revoke();
    assert.equal(moved.status, 0, moved.stderr);
    assert.ok(existsSync(path.join(dir, 'secrets', 'ca.crl')), 'revoked once every member has moved');
  });

  const cases: { name: string; edit: (t: string) => string; says: RegExp }[] = [
    { name: 'a missing field', edit: (t) => t.replace(/^CLUSTER_TOKEN=.*\n/m, ''), says: /k8s1-etcd2\.k8s\.lan\.conf:5:1: \$\.CLUSTER_TOKEN: no CLUSTER_TOKEN line: add it/ },
    { name: 'a field given twice', edit: (t) => `${t}PEERS_PORT=2390\n`, says: /k8s1-etcd2\.k8s\.lan\.conf:7:12: \$\.PEERS_PORT: PEERS_PORT is already set on line 6: keep one/ },
    { name: 'a line that is not KEY=VALUE', edit: (t) => t.replace('CLIENT_PORT=2379', 'CLIENT_PORT 2379'), says: /k8s1-etcd2\.k8s\.lan\.conf:5:1: \$: "CLIENT_PORT 2379" is not a KEY=VALUE line/ },
    { name: 'a port that is no port', edit: (t) => t.replace('CLIENT_PORT=2379', 'CLIENT_PORT=65536'), says: /k8s1-etcd2\.k8s\.lan\.conf:5:13: \$\.CLIENT_PORT: CLIENT_PORT "65536" is not a port/ },
    { name: 'a token that differs', edit: (t) => t.replace(PROCEDURE_TOKEN, 'other'), says: /k8s1-etcd2\.k8s\.lan\.conf:4:15: \$\.CLUSTER_TOKEN: CLUSTER_TOKEN is "other" here but ".*" at .*k8s1-etcd1\.k8s\.lan\.conf:4/ },
    { name: 'a node name CLUSTER_NODES lacks', edit: (t) => t.replace('NODE_NAME=k8s1-etcd2.k8s.lan', 'NODE_NAME=etcd9'), says: /k8s1-etcd2\.k8s\.lan\.conf:2:11: \$\.NODE_NAME: NODE_NAME etcd9 is not a member of CLUSTER_NODES/ },
    { name: 'a peer URL that differs', edit: (t) => t.replace('NODE_ADDRESS=https://k8s1-etcd2.k8s.lan:2380', 'NODE_ADDRESS=https://10.0.0.2:2380'), says: /k8s1-etcd2\.k8s\.lan\.conf:1:14: \$\.NODE_ADDRESS: NODE_ADDRESS https:\/\/10\.0\.0\.2:2380 is not the peer URL CLUSTER_NODES gives/ },
    { name: 'a peer URL that is no URL', edit: (t) => t.replace('NODE_ADDRESS=https://k8s1-etcd2.k8s.lan:2380', 'NODE_ADDRESS=k8s1-etcd2.k8s.lan'), says: /k8s1-etcd2\.k8s\.lan\.conf:1:14: \$\.NODE_ADDRESS: NODE_ADDRESS "k8s1-etcd2\.k8s\.lan" is not https:\/\/host:port/ },
  ];
  for (const c of cases) {
    it(`refuses ${c.name} at its file, line and column`, () => {
      const got = problems(withConf('k8s1-etcd2.k8s.lan', c.edit));
      assert.ok(got.some((line) => c.says.test(line)), got.join('\n'));
    });
  }

  it('refuses a bad CLUSTER_NODES entry at its column, in every file that has it', () => {
    const confs = new Map([...files.confs].map(([f, t]) => [f, t.replace(',k8s1-etcd2.k8s.lan=https://', ',k8s1-etcd2.k8s.lan=http://')]));
    const got = problems({ ...files, confs });
    assert.ok(got.some((l) => /k8s1-etcd1\.k8s\.lan\.conf:3:66: \$\.CLUSTER_NODES: "k8s1-etcd2\.k8s\.lan=http:\/\/k8s1-etcd2\.k8s\.lan:2380" is not name=https:\/\/host:port/.test(l)), got.join('\n'));
  });

  it('refuses a member name etcd-gen cannot use, at the line in the .conf it came from', () => {
    const confs = new Map([...files.confs].map(([f, t]) => [f, t.replaceAll('k8s1-etcd3.k8s.lan=', 'K8S1_etcd3=').replace('NODE_NAME=k8s1-etcd3.k8s.lan', 'NODE_NAME=K8S1_etcd3')]));
    const got = problems({ ...files, confs });
    assert.ok(got.some((l) => /k8s1-etcd1\.k8s\.lan\.conf:3:\d+: \$\.nodes\[2\]\.name: invalid value: use a DNS label or a DNS name/.test(l)), got.join('\n'));
  });

  it('notes a field it does not know, and a member with no .conf, and imports the rest', () => {
    const confs = new Map(files.confs);
    confs.delete(path.join(env, 'k8s1-etcd3.k8s.lan.conf'));
    const first = path.join(env, 'k8s1-etcd1.k8s.lan.conf');
    confs.set(first, `# comment\n${confs.get(first) ?? ''}ETCD_QUOTA="8589934592"\n`);
    const result = importProcedure({ ...files, confs }, { etcdVersion: '3.5.16', configFile: 'cluster.yaml' });
    assert.ok(result.notes.some((n) => /k8s1-etcd1\.k8s\.lan\.conf:8: ETCD_QUOTA is not one of the procedure's fields and was not imported/.test(n)), result.notes.join('\n'));
    assert.ok(result.notes.some((n) => /member k8s1-etcd3\.k8s\.lan .* has no \.conf file here: imported from CLUSTER_NODES alone/.test(n)));
    assert.match(result.clusterYaml, /name: "k8s1-etcd3\.k8s\.lan"/);
  });

  it('refuses an encrypted CA key, a CA key of another CA, and a CA that is not there', () => {
    const key = createPrivateKey(files.caKey ?? '');
    const encrypted = key.export({ type: 'pkcs1', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'x' }).toString();
    assert.match(problems({ ...files, caKey: encrypted }).join('\n'), /ca-key\.pem:1:1: \$: this CA key is encrypted with a passphrase: decrypt it once/);
    const peerKey = readFileSync(path.join(env, 'etcd-peer-key.pem'), 'utf8');
    assert.match(problems({ ...files, caKey: peerKey }).join('\n'), /ca-key\.pem:1:1: \$: this key does not belong to .*ca\.pem/);
    assert.match(problems({ ...files, caKey: null }).join('\n'), /ca-key\.pem:1:1: \$: .*ca\.pem and .*ca-key\.pem \(cfssl's CA\) must both be here/);
    assert.match(problems({ ...files, caCert: readFileSync(path.join(env, 'etcd-peer.pem'), 'utf8') }).join('\n'), /ca\.pem:1:1: \$: this certificate is not a CA/);
  });

  it('checks the running cluster\'s member list against the .conf files', () => {
    const live = (members: object[]) => ({ memberList: { file: 'members.json', text: JSON.stringify({ header: {}, members }) } });
    const ok = NODES.map((n) => ({ ID: 1, name: n.name, peerURLs: [`https://${n.host}:2380`], clientURLs: [`https://${n.host}:2379`] }));
    assert.ok(importProcedure(files, { etcdVersion: '3.5.16', configFile: 'cluster.yaml', ...live(ok) }).clusterYaml.length > 0);
    assert.match(problems(files, live([...ok, { name: 'etcd4', peerURLs: ['https://etcd4:2380'] }])).join('\n'), /members\.json:1:1: \$: the running cluster has member etcd4, which no \.conf file/);
    assert.match(problems(files, live(ok.slice(1))).join('\n'), /conf:3:\d+: \$\.CLUSTER_NODES: member k8s1-etcd1\.k8s\.lan is not in the running cluster \(members\.json\)/);
    assert.match(problems(files, live([{ ...ok[0], peerURLs: ['https://10.0.0.1:2380'] }, ...ok.slice(1)])).join('\n'), /member k8s1-etcd1\.k8s\.lan runs with peer URL https:\/\/10\.0\.0\.1:2380/);
    assert.match(problems(files, { memberList: { file: 'members.json', text: 'ID, name\n' } }).join('\n'), /members\.json:1:1: \$: not the JSON of etcdctl member list -w json/);
  });

  it('names the cluster after its members unless told', () => {
    assert.equal(clusterNameFrom('k8s1-etcd1.k8s.lan'), 'k8s1');
    assert.equal(clusterNameFrom('prod-etcd-2.example.com'), 'prod');
    assert.equal(clusterNameFrom('db3'), 'db');
    assert.equal(clusterNameFrom('etcd1'), 'etcd');
  });

  it('says what is wrong with the env directory itself', (t) => {
    const empty = tempDir(t);
    const r = runCli(['import', empty, '--etcd-version', '3.5.16', '-o', path.join(empty, 'c.yaml')]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /:1:1: \$: no <node>\.conf files here/);
    const missing = runCli(['import', path.join(empty, 'nope'), '--etcd-version', '3.5.16', '-o', path.join(empty, 'c.yaml')]);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /nope:1:1: \$: cannot read the procedure's env directory \(ENOENT\)/);
  });
});
