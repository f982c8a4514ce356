/**
 * The manual procedure's env directory, made as its steps make it: cfssl's CA and one shared peer and one
 * shared client certificate (RSA, the CSR's hosts naming every member, localhost and 127.0.0.1, and a load
 * balancer name), and one `<node>.conf` per member from its heredoc. Used by the import and takeover tests.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { run } from '../helpers.js';

export const PROCEDURE_TOKEN = 'Qm9vdHN0cmFwVG9rZW4x';

export interface ProcedureNode {
  name: string;
  /** What peers dial; the procedure uses the member name. */
  host: string;
}

/** cfssl's ca-config.json of the procedure (profile etcd: server and client auth). */
const CA_CONFIG = { signing: { default: { expiry: '8760h' }, profiles: { etcd: { expiry: '8760h', usages: ['signing', 'key encipherment', 'server auth', 'client auth'] } } } };

export function makeProcedureEnv(root: string, nodes: readonly ProcedureNode[], options: { keyBits?: number; clientPort?: number; peerPort?: number; extraHosts?: string[] } = {}): string {
  const env = path.join(root, 'env');
  mkdirSync(env, { recursive: true });
  const bits = options.keyBits ?? 4096;
  const key = { algo: 'rsa', size: bits };
  const names = [{ O: 'Kubernetes', OU: 'etcd' }];
  writeFileSync(path.join(root, 'ca-csr.json'), JSON.stringify({ CN: 'etcd-ca', key, names }));
  writeFileSync(path.join(root, 'ca-config.json'), JSON.stringify(CA_CONFIG));
  writeFileSync(path.join(env, 'etcd-csr.json'), JSON.stringify({ CN: 'etcd', hosts: ['localhost', '127.0.0.1', ...nodes.map((n) => n.host), ...(options.extraHosts ?? ['k8s1-etcd-lb.k8s.lan'])], key, names }));
  const sh = (script: string): void => {
    const r = run('sh', ['-c', script], { cwd: root, timeout: 300_000 });
    if (r.status !== 0) throw new Error(`${script}: ${r.stderr}`);
  };
  sh('cfssl gencert -initca ca-csr.json | cfssljson -bare env/ca');
  for (const which of ['peer', 'client']) {
    sh(`cfssl gencert -ca env/ca.pem -ca-key env/ca-key.pem -config ca-config.json -profile=etcd env/etcd-csr.json | cfssljson -bare env/etcd-${which}`);
  }
  const peerPort = options.peerPort ?? 2380;
  const clientPort = options.clientPort ?? 2379;
  const clusterNodes = nodes.map((n) => `${n.name}=https://${n.host}:${peerPort}`).join(',');
  for (const n of nodes) {
    writeFileSync(
      path.join(env, `${n.name}.conf`),
      `NODE_ADDRESS=https://${n.host}:${peerPort}\nNODE_NAME=${n.name}\nCLUSTER_NODES=${clusterNodes}\nCLUSTER_TOKEN=${PROCEDURE_TOKEN}\nCLIENT_PORT=${clientPort}\nPEERS_PORT=${peerPort}\n`,
    );
  }
  return env;
}
