import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClusterConfig } from '../src/config.js';
import { buildModel, deriveToken } from '../src/model.js';

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
  it('resolves defaults once', () => {
    const m = buildModel(base, 'cluster.yaml');
    assert.deepEqual(m.ports, { client: 2379, peer: 2380 });
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
