/**
 * The output checked by the tools operators trust: openssl on every chain, usage and name; shellcheck on
 * every shell file; systemd-analyze on the unit. Under CI=true a missing tool fails the test.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { RUNBOOKS } from '../../src/render/render.js';
import type { KeyType } from '../../src/input/config.js';
import { buildInto, needTools, run, tempDir } from '../helpers.js';

const cluster = (key: KeyType, bin = '/usr/local/bin', data = '/var/lib/etcd'): string => `name: tools
etcd: { version: "3.5.13" }
nodes:
  - { name: etcd1, host: etcd1.k8s.lan, ip: 10.0.0.11 }
  - { name: etcd2, host: "fd00::12" }
  - { name: etcd3, host: 10.0.0.13 }
tls: { key: ${key}, extraSANs: [lb.k8s.lan, 10.0.0.100] }
paths: { bin: ${bin}, data: ${data} }
`;

function openssl(args: string[]): string {
  const r = run('openssl', args);
  assert.equal(r.status, 0, `openssl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** The text openssl prints for one extension, e.g. 'subjectAltName'. */
function ext(cert: string, name: string): string {
  return openssl(['x509', '-in', cert, '-noout', '-ext', name]).split('\n').slice(1).join(' ').trim();
}

describe('openssl accepts every certificate', () => {
  for (const key of ['ecdsa-p256', 'ecdsa-p384', 'rsa-2048'] as const) {
    it(`with ${key} keys: chains, usages, names, key pairs`, async (t) => {
      if (!needTools(t, ['openssl'])) return;
      const { out } = await buildInto(t, cluster(key), { fixedKeys: true });
      const pki = (member: string) => path.join(out, 'nodes', member, 'root', 'etc', 'etcd', 'pki');
      const ca = path.join(out, 'admin', 'pki', 'ca.crt');

      // The CA: a CA and nothing else.
      assert.equal(ext(ca, 'basicConstraints'), 'CA:TRUE, pathlen:0');
      assert.equal(ext(ca, 'keyUsage'), 'Certificate Sign, CRL Sign');
      assert.equal(ext(ca, 'extendedKeyUsage'), '');

      const expectNames: Record<string, string> = {
        etcd1: 'DNS:etcd1.k8s.lan, IP Address:10.0.0.11',
        etcd2: 'IP Address:FD00:0:0:0:0:0:0:12',
        etcd3: 'IP Address:10.0.0.13',
      };
      for (const member of ['etcd1', 'etcd2', 'etcd3']) {
        for (const role of ['server', 'peer']) {
          const cert = path.join(pki(member), `${role}.crt`);
          assert.match(openssl(['verify', '-CAfile', ca, '-purpose', 'sslserver', cert]), /: OK/);
          assert.match(openssl(['verify', '-CAfile', ca, '-purpose', 'sslclient', cert]), /: OK/);
          assert.equal(ext(cert, 'extendedKeyUsage'), 'TLS Web Server Authentication, TLS Web Client Authentication');
          assert.equal(ext(cert, 'basicConstraints'), 'CA:FALSE');
          const sans = ext(cert, 'subjectAltName').split(', ').sort();
          const own = (expectNames[member] ?? '').split(', ');
          const serverExtra = ['DNS:localhost', 'IP Address:127.0.0.1', 'IP Address:0:0:0:0:0:0:0:1', 'DNS:lb.k8s.lan', 'IP Address:10.0.0.100'];
          assert.deepEqual(sans, [...own, ...(role === 'server' ? serverExtra : [])].sort(), `${member} ${role} names`);
          // The key in the overlay belongs to the certificate beside it.
          const fromCert = openssl(['x509', '-in', cert, '-noout', '-pubkey']);
          const fromKey = openssl(['pkey', '-in', path.join(pki(member), `${role}.key`), '-pubout']);
          assert.equal(fromKey, fromCert, `${member} ${role} key pair`);
        }
        assert.equal(openssl(['x509', '-in', path.join(pki(member), 'server.crt'), '-noout', '-subject']).trim(), `subject=CN = ${member}`);
      }
      for (const client of [path.join(out, 'admin', 'pki', 'admin.crt'), path.join(out, 'kubernetes', 'root', 'etc', 'kubernetes', 'pki', 'apiserver-etcd-client.crt')]) {
        assert.match(openssl(['verify', '-CAfile', ca, '-purpose', 'sslclient', client]), /: OK/);
        assert.equal(ext(client, 'extendedKeyUsage'), 'TLS Web Client Authentication');
        const asServer = run('openssl', ['verify', '-CAfile', ca, '-purpose', 'sslserver', client]);
        assert.notEqual(asServer.status, 0, 'a client certificate is no server certificate');
      }
      // Another cluster's CA verifies none of them.
      const other = await buildInto(t, cluster(key).replace('name: tools', 'name: other'), { fixedKeys: true });
      const foreign = run('openssl', ['verify', '-CAfile', path.join(other.out, 'admin', 'pki', 'ca.crt'), path.join(pki('etcd1'), 'server.crt')]);
      assert.notEqual(foreign.status, 0);
    });
  }
});

describe('shellcheck', () => {
  it('passes every shell file in the output', async (t) => {
    if (!needTools(t, ['shellcheck'])) return;
    const { out, result } = await buildInto(t, cluster('ecdsa-p256'));
    const shellFiles = result.files.filter((f) => f.role === 'admin-shell' || f.role === 'runbook').map((f) => path.join(out, f.path));
    // aliases.sh, etcdctl.env, and every runbook with the lib.sh they source (-x follows it).
    assert.equal(shellFiles.length, 2 + RUNBOOKS.length);
    const r = run('shellcheck', ['--shell=bash', '--severity=style', '--external-sources', ...shellFiles]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  it('passes the bootstrap guard as sh: the unit runs it with /bin/sh', async (t) => {
    if (!needTools(t, ['shellcheck'])) return;
    const { out } = await buildInto(t, cluster('ecdsa-p256'));
    const r = run('shellcheck', ['--shell=sh', '--severity=style', path.join(out, 'nodes', 'etcd1', 'root', 'etc', 'etcd', 'bootstrap-guard.sh')]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  it('passes the env file as sh: systemd and a shell read it the same way', async (t) => {
    if (!needTools(t, ['shellcheck'])) return;
    const { out } = await buildInto(t, cluster('ecdsa-p256'));
    const conf = path.join(out, 'nodes', 'etcd1', 'root', 'etc', 'etcd', 'etcd.conf');
    const r = run('shellcheck', ['--shell=sh', '--exclude=SC2034', conf]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });
});

describe('systemd-analyze', () => {
  // The data dir under /var/lib is a StateDirectory=; elsewhere it is a ReadWritePaths= entry.
  for (const data of ['/var/lib/etcd', '/srv/etcd/data']) {
    it(`verifies the unit with no warning, data dir ${data}`, async (t) => {
      if (!needTools(t, ['systemd-analyze', 'etcd'])) return;
      const etcdDir = path.dirname(run('sh', ['-c', 'command -v etcd']).stdout.trim());
      const { out } = await buildInto(t, cluster('ecdsa-p256', etcdDir, data));
      const unit = path.join(out, 'nodes', 'etcd1', 'root', 'etc', 'systemd', 'system', 'etcd.service');
      const r = run('systemd-analyze', ['verify', unit]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr.trim(), '', 'no warnings');
    });

    it(`rates the unit's sandbox at an exposure of 2.0 or lower, data dir ${data}`, async (t) => {
      if (!needTools(t, ['systemd-analyze'])) return;
      const { out } = await buildInto(t, cluster('ecdsa-p256', '/usr/local/bin', data));
      const unit = path.join(out, 'nodes', 'etcd1', 'root', 'etc', 'systemd', 'system', 'etcd.service');
      const r = run('systemd-analyze', ['security', '--offline=true', '--no-pager', unit]);
      assert.equal(r.status, 0, r.stderr);
      const exposure = /Overall exposure level for etcd\.service: (\d+\.\d)/.exec(r.stdout)?.[1];
      assert.ok(exposure, r.stdout);
      assert.ok(Number(exposure) <= 2.0, `exposure ${exposure} > 2.0:\n${r.stdout.split('\n').filter((l) => l.startsWith('✗')).join('\n')}`);
      // What the rating rests on: no root, no capabilities, a read-only system, a syscall allow list.
      for (const check of ['User=/DynamicUser=', 'CapabilityBoundingSet=~CAP_SYS_ADMIN', 'ProtectSystem=', 'SystemCallFilter=~@privileged', 'PrivateTmp=', 'UMask=']) {
        assert.match(r.stdout, new RegExp(`^✓ ${check.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s`, 'm'), check);
      }
    });
  }

  it("rates Debian's own etcd unit far worse, so the rating can tell them apart", (t) => {
    if (!needTools(t, ['systemd-analyze'])) return;
    const dir = tempDir(t);
    const unit = path.join(dir, 'etcd.service');
    writeFileSync(unit, '[Unit]\nDescription=etcd\n\n[Service]\nType=notify\nUser=etcd\nExecStart=/usr/bin/etcd\nRestart=on-abnormal\nLimitNOFILE=65536\n\n[Install]\nWantedBy=multi-user.target\n');
    const r = run('systemd-analyze', ['security', '--offline=true', '--no-pager', unit]);
    const exposure = Number(/Overall exposure level for etcd\.service: (\d+\.\d)/.exec(r.stdout)?.[1]);
    assert.ok(exposure > 9, `Debian's unit scores ${exposure}`);
  });
});
