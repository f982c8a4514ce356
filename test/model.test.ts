import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClusterConfig } from '../src/input/config.js';
import { buildModel, deriveToken } from '../src/model/build.js';

const base: ClusterConfig = {
  name: 'k8s1',
  etcd: { version: '3.5.13' },
  nodes: [
    { name: 'etcd1', host: 'etcd1.lan', ip: '10.0.0.11' },
    { name: 'etcd2', host: 'fd00::12' },
    { name: 'etcd3', host: 'etcd3.lan' },
  ],
};

const setting = (m: ReturnType<typeof buildModel>, member: number, env: string): string | undefined =>
  m.members[member]?.settings.find((s) => s.env === env)?.value;

describe('model', () => {
  it('gives the runbooks the snapshot tool and restore flags of each release', () => {
    const at = (version: string) => buildModel({ ...base, etcd: { version } }, 'cluster.yaml').runbooks;
    const facts = (version: string) => {
      const r = at(version);
      return [r.etcdutl, r.snapshotTool, r.restoreBumpsRevision];
    };
    assert.deepEqual(facts('3.4.23'), [false, 'etcdctl', false]);
    assert.deepEqual(facts('3.5.9'), [true, 'etcdutl', false]);
    assert.deepEqual(facts('3.5.10'), [true, 'etcdutl', true]);
    assert.deepEqual(facts('3.6.0'), [true, 'etcdutl', true]);
    // rotate-certs.sh installs the certificate files with the owners and modes every other deploy path uses.
    assert.deepEqual(at('3.5.13').pkiFiles, [
      { name: 'ca.crt', owner: 'root:root', mode: '0644' },
      { name: 'server.crt', owner: 'root:root', mode: '0644' },
      { name: 'peer.crt', owner: 'root:root', mode: '0644' },
      { name: 'server.key', owner: 'etcd:etcd', mode: '0600' },
      { name: 'peer.key', owner: 'etcd:etcd', mode: '0600' },
    ]);
  });

  it('resolves defaults once', () => {
    const m = buildModel(base, 'cluster.yaml');
    assert.deepEqual(m.ports, { client: 2379, peer: 2380, metrics: 2381 });
    assert.equal(m.paths.conf, '/etc/etcd/etcd.conf');
    assert.equal(m.paths.pki, '/etc/etcd/pki');
    assert.equal(m.paths.etcdBinary, '/usr/local/bin/etcd');
    assert.equal(m.paths.stateDirectory, 'etcd');
    assert.equal(m.tls.key, 'ecdsa-p256');
    assert.equal(m.kubernetes.caFile, '/etc/kubernetes/pki/etcd/ca.crt');
    assert.equal(m.quorum, 2);
    assert.equal(m.faultTolerance, 1);
  });

  it('builds URLs with IPv6 in brackets and the initial cluster from every member', () => {
    const m = buildModel(base, 'cluster.yaml');
    assert.equal(m.members[1]?.peerUrl, 'https://[fd00::12]:2380');
    assert.equal(
      m.initialCluster,
      'etcd1=https://etcd1.lan:2380,etcd2=https://[fd00::12]:2380,etcd3=https://etcd3.lan:2380',
    );
    assert.deepEqual(m.clientEndpoints, ['https://etcd1.lan:2379', 'https://[fd00::12]:2379', 'https://etcd3.lan:2379']);
  });

  it('listens on IPs only: the member IP plus loopback, or every interface when no IP is known', () => {
    const m = buildModel(base, 'cluster.yaml');
    assert.deepEqual(m.members[0]?.listenClientUrls, ['https://10.0.0.11:2379', 'https://127.0.0.1:2379']);
    assert.deepEqual(m.members[0]?.listenPeerUrls, ['https://10.0.0.11:2380']);
    assert.deepEqual(m.members[1]?.listenPeerUrls, ['https://[fd00::12]:2380']);
    assert.deepEqual(m.members[1]?.listenClientUrls, ['https://[fd00::12]:2379', 'https://[::1]:2379'], 'IPv6 members add IPv6 loopback');
    assert.deepEqual(m.members[2]?.listenClientUrls, ['https://0.0.0.0:2379']);
    const loop = buildModel({ ...base, nodes: [{ name: 'a', host: '127.0.0.2' }] }, 'cluster.yaml');
    assert.deepEqual(loop.members[0]?.listenClientUrls, ['https://127.0.0.2:2379'], 'a loopback member adds no second loopback listener');
  });

  it('serves metrics on loopback: of the member\'s IP family for a member elsewhere, its own address for a member on loopback', () => {
    const m = buildModel(base, 'cluster.yaml');
    assert.deepEqual(m.members.map((member) => member.listenMetricsUrl), ['http://127.0.0.1:2381', 'http://[::1]:2381', 'http://127.0.0.1:2381']);
    const loop = buildModel(
      { ...base, ports: { metrics: 9000 }, nodes: [{ name: 'a', host: '127.0.0.1' }, { name: 'b', host: '127.0.0.2' }, { name: 'c', host: '::1' }] },
      'cluster.yaml',
    );
    // Three members on one host's loopback must not collide on one metrics address.
    assert.deepEqual(loop.members.map((member) => member.listenMetricsUrl), ['http://127.0.0.1:9000', 'http://127.0.0.2:9000', 'http://[::1]:9000']);
    assert.equal(setting(loop, 1, 'ETCD_LISTEN_METRICS_URLS'), 'http://127.0.0.2:9000');
  });

  it('gives every member file an owner and mode: keys etcd-only, the env file root-only, the data dir etcd-only', () => {
    const { install } = buildModel(base, 'cluster.yaml');
    const byPath = new Map([...install.directories, ...install.files].map((f) => [f.path, `${f.user}:${f.group} ${f.modeText}`]));
    assert.deepEqual(Object.fromEntries(byPath), {
      '/etc/etcd': 'root:etcd 0750',
      '/etc/etcd/pki': 'root:etcd 0750',
      '/var/lib/etcd': 'etcd:etcd 0700',
      '/etc/etcd/bootstrap-guard.sh': 'root:root 0755',
      '/etc/etcd/etcd.conf': 'root:root 0600',
      '/etc/systemd/system/etcd.service': 'root:root 0644',
      '/etc/etcd/pki/ca.crt': 'root:root 0644',
      '/etc/etcd/pki/server.crt': 'root:root 0644',
      '/etc/etcd/pki/peer.crt': 'root:root 0644',
      '/etc/etcd/pki/server.key': 'etcd:etcd 0600',
      '/etc/etcd/pki/peer.key': 'etcd:etcd 0600',
    });
    for (const f of install.files) assert.equal(f.role === 'private-key', f.mode === 0o600 && f.user === 'etcd', f.path);
    // The deploy steps' groups cover every file once, with its own owner and mode.
    const grouped = install.fileGroups.flatMap((g) => g.paths.map((p) => `${p} ${g.user}:${g.group} ${g.modeText}`)).sort();
    assert.deepEqual(grouped, install.files.map((f) => `${f.path} ${f.user}:${f.group} ${f.modeText}`).sort());
  });

  it('escapes control characters that bypassed validation, so no value can start a line of its own', () => {
    const hostile = buildModel({ ...base, name: 'x\ntouch /tmp/p', nodes: [{ name: 'a\rb', host: 'h\u0000.lan' }] }, 'c\n.yaml');
    assert.equal(hostile.name, 'x\\u000atouch /tmp/p');
    assert.doesNotMatch(hostile.notice, /[\n\r\u0000]/);
    assert.equal(hostile.members[0]?.etcdctlFunction, 'etcdctl_a_u000db');
    assert.equal(hostile.admin.aliasesPkiVar, '_etcd_gen_aliases_pki_x_u000atouch__tmp_p');
    const { admin } = buildModel(base, 'cluster.yaml');
    assert.deepEqual([admin.aliasesPkiVar, admin.aliasesRunner, admin.envPkiVar], ['_etcd_gen_aliases_pki_k8s1', '_etcd_gen_aliases_etcdctl_k8s1', '_etcd_gen_env_pki_k8s1']);
  });

  it('writes every address in one spelling: IPv6 canonical, IPv4-mapped IPv6 as its IPv4 address', () => {
    const m = buildModel({ ...base, tls: { extraSANs: ['::ffff:10.0.0.1', '0:0:0:0:0:0:10.0.0.2', 'FD00:0::1', 'lb.lan', '10.0.0.3', '::FFFF:a00:3'] } }, 'c.yaml');
    assert.deepEqual(m.tls.extraSANs, ['10.0.0.1', '::a00:2', 'fd00::1', 'lb.lan', '10.0.0.3']);
    const mapped = buildModel({ ...base, nodes: [{ name: 'a', host: '::ffff:10.0.0.13', extraSANs: ['0:0:0:0:0:FFFF:0A00:0021', 'FD00::0011'] }] }, 'c.yaml');
    const member = mapped.members[0];
    assert.deepEqual([member?.host, member?.ip, member?.peerUrl, member?.clientUrl], ['10.0.0.13', '10.0.0.13', 'https://10.0.0.13:2380', 'https://10.0.0.13:2379']);
    assert.deepEqual(member?.extraSANs, ['10.0.0.33', 'fd00::11']);
  });

  it('derives the same token for the same cluster name, and different ones for different names', () => {
    assert.equal(deriveToken('k8s1'), deriveToken('k8s1'));
    assert.notEqual(deriveToken('k8s1'), deriveToken('k8s2'));
    assert.match(deriveToken('k8s1'), /^k8s1-[0-9a-f]{8}$/);
    assert.equal(buildModel({ ...base, token: 'mine' }, 'c.yaml').token, 'mine');
    assert.equal(setting(buildModel(base, 'c.yaml'), 0, 'ETCD_INITIAL_CLUSTER_TOKEN'), deriveToken('k8s1'));
  });

  it('turns on TLS with client certificates on both listeners and nothing automatic', () => {
    const m = buildModel(base, 'cluster.yaml');
    for (const [env, value] of [
      ['ETCD_CLIENT_CERT_AUTH', 'true'],
      ['ETCD_PEER_CLIENT_CERT_AUTH', 'true'],
      ['ETCD_AUTO_TLS', 'false'],
      ['ETCD_PEER_AUTO_TLS', 'false'],
      ['ETCD_TRUSTED_CA_FILE', '/etc/etcd/pki/ca.crt'],
      ['ETCD_PEER_TRUSTED_CA_FILE', '/etc/etcd/pki/ca.crt'],
      ['ETCD_CERT_FILE', '/etc/etcd/pki/server.crt'],
      ['ETCD_PEER_KEY_FILE', '/etc/etcd/pki/peer.key'],
    ] as const) {
      assert.equal(setting(m, 0, env), value, env);
    }
    for (const member of m.members) {
      for (const url of [...member.listenClientUrls, ...member.listenPeerUrls, member.peerUrl, member.clientUrl]) assert.match(url, /^https:\/\//);
    }
  });

  it('emits the logger setting only where the version needs it', () => {
    assert.equal(setting(buildModel({ ...base, etcd: { version: '3.4.23' } }, 'c.yaml'), 0, 'ETCD_LOGGER'), 'zap');
    assert.equal(setting(buildModel(base, 'c.yaml'), 0, 'ETCD_LOGGER'), undefined);
  });

  it('does not change its input', () => {
    const input = structuredClone(base);
    buildModel(input, 'cluster.yaml');
    assert.deepEqual(input, base);
  });
});
