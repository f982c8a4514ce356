/**
 * npm run bench: etcd-gen's speed, measured side by side with the seed's own tools in the same run.
 * Each figure is the median wall time of several runs of a whole command, as a user runs it. Targets
 * are reported, not enforced: speed is measured here, never asserted in tests.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = path.join(root, 'dist', 'src', 'cli.js');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

function have(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
}

/** Median wall time in ms of `runs` runs; `prepare` runs untimed before each. */
function measure(runs: number, prepare: () => void, cmd: string, args: string[], cwd: string): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    prepare();
    const start = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
    times.push(ms);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? NaN;
}

function cluster(members: number, key: string): string {
  const nodes = Array.from({ length: members }, (_, i) => `  - { name: etcd${i + 1}, host: k8s1-etcd${i + 1}.k8s.lan, ip: 10.0.0.${11 + i} }`);
  return `name: bench\netcd: { version: "3.5.13" }\nnodes:\n${nodes.join('\n')}\ntls: { key: ${key} }\n`;
}

const work = mkdtempSync(path.join(os.tmpdir(), 'etcd-gen-bench-'));
const fresh = (dir: string) => () => {
  rmSync(path.join(dir, 'out'), { recursive: true, force: true });
  rmSync(path.join(dir, 'secrets'), { recursive: true, force: true });
};
const project = (name: string, yaml: string): string => {
  const dir = path.join(work, name);
  rmSync(dir, { recursive: true, force: true });
  spawnSync('mkdir', ['-p', dir]);
  writeFileSync(path.join(dir, 'cluster.yaml'), yaml);
  return dir;
};

interface Row {
  name: string;
  ms: number;
  keys: number;
}
const rows: Row[] = [];
const add = (name: string, ms: number, keys: number) => {
  rows.push({ name, ms, keys });
  process.stderr.write(`  ${name}: ${ms.toFixed(0)} ms\n`);
};

process.stderr.write(`etcd-gen bench: median of ${RUNS} runs each (RSA-4096: ${Math.max(3, Math.ceil(RUNS / 2))}), ${os.cpus().length} cores\n`);
const rsaRuns = Math.max(3, Math.ceil(RUNS / 2));

add('node -e 0 (floor)', measure(RUNS, () => undefined, process.execPath, ['-e', '0'], work), 0);

const rsa3 = project('rsa3', cluster(3, 'rsa-4096'));
add('etcd-gen build, 3 members, RSA-4096, new PKI', measure(rsaRuns, fresh(rsa3), process.execPath, [cli, 'build', 'cluster.yaml', '-o', 'out'], rsa3), 9);

// The seed's pipeline: cfssl CA plus one shared peer and one shared client certificate, RSA-4096.
if (have('cfssl') && have('cfssljson')) {
  const dir = project('cfssl', '');
  writeFileSync(path.join(dir, 'ca-csr.json'), JSON.stringify({ CN: 'etcd-ca', key: { algo: 'rsa', size: 4096 }, names: [{ O: 'Kubernetes', OU: 'etcd' }] }));
  writeFileSync(
    path.join(dir, 'ca-config.json'),
    JSON.stringify({ signing: { default: { expiry: '8760h' }, profiles: { etcd: { expiry: '8760h', usages: ['signing', 'key encipherment', 'server auth', 'client auth'] } } } }),
  );
  writeFileSync(
    path.join(dir, 'etcd-csr.json'),
    JSON.stringify({ CN: 'etcd', hosts: ['localhost', '127.0.0.1', 'k8s1-etcd1.k8s.lan', 'k8s1-etcd2.k8s.lan', 'k8s1-etcd3.k8s.lan'], key: { algo: 'rsa', size: 4096 }, names: [{ O: 'Kubernetes', OU: 'etcd' }] }),
  );
  const script = [
    'cfssl gencert -initca ca-csr.json 2>/dev/null | cfssljson -bare ca',
    'cfssl gencert -ca ca.pem -ca-key ca-key.pem -config ca-config.json -profile=etcd etcd-csr.json 2>/dev/null | cfssljson -bare etcd-peer',
    'cfssl gencert -ca ca.pem -ca-key ca-key.pem -config ca-config.json -profile=etcd etcd-csr.json 2>/dev/null | cfssljson -bare etcd-client',
  ].join(' && ');
  add('cfssl (seed), CA + shared peer + client, RSA-4096', measure(rsaRuns, () => undefined, 'bash', ['-c', script], dir), 3);
} else {
  process.stderr.write('  cfssl: not installed (apt-get install golang-cfssl); skipped\n');
}

if (have('openssl')) {
  const dir = project('openssl', '');
  const leaf = (name: string) =>
    `openssl req -newkey rsa:4096 -nodes -keyout ${name}.key -out ${name}.csr -subj /CN=etcd 2>/dev/null && ` +
    `openssl x509 -req -in ${name}.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out ${name}.crt -days 365 ` +
    `-extfile <(printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nextendedKeyUsage=serverAuth,clientAuth') 2>/dev/null`;
  const script = ['openssl req -x509 -newkey rsa:4096 -nodes -keyout ca.key -out ca.crt -subj /CN=etcd-ca -days 3650 2>/dev/null', leaf('peer'), leaf('client')].join(' && ');
  add('openssl script, CA + shared peer + client, RSA-4096', measure(rsaRuns, () => undefined, 'bash', ['-c', script], dir), 3);
}

const ec3 = project('ec3', cluster(3, 'ecdsa-p256'));
add('etcd-gen build, 3 members, ECDSA P-256, new PKI', measure(RUNS, fresh(ec3), process.execPath, [cli, 'build', 'cluster.yaml', '-o', 'out'], ec3), 9);
add('etcd-gen rebuild, 3 members, ECDSA, existing secrets', measure(RUNS, () => undefined, process.execPath, [cli, 'build', 'cluster.yaml', '-o', 'out'], ec3), 0);
// Sizes for the linearity fit; 3 members is the build above.
const SIZES = [6, 9, 12, 15];
for (const n of SIZES) {
  const dir = project(`ec${n}`, cluster(n, 'ecdsa-p256'));
  add(`etcd-gen build, ${n} members, ECDSA P-256, new PKI`, measure(RUNS, fresh(dir), process.execPath, [cli, 'build', 'cluster.yaml', '-o', 'out'], dir), 2 * n + 3);
}

rmSync(work, { recursive: true, force: true });

const find = (prefix: string) => rows.find((r) => r.name.startsWith(prefix));
const perKey = (r: Row | undefined) => (r && r.keys > 0 ? r.ms / r.keys : NaN);
const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

const lines = ['', '| scenario | median ms | keys | ms per key |', '|---|---:|---:|---:|'];
for (const r of rows) lines.push(`| ${r.name} | ${fmt(r.ms)} | ${r.keys} | ${r.keys ? fmt(perKey(r)) : '-'} |`);

const ours = perKey(find('etcd-gen build, 3 members, RSA'));
const cfssl = perKey(find('cfssl'));
const openssl = perKey(find('openssl'));
const floor = find('node -e 0')?.ms ?? NaN;
const rebuild = find('etcd-gen rebuild')?.ms ?? NaN;
const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
lines.push('', '| target | measured | |', '|---|---|---|');
lines.push(`| RSA-4096 per key at most 0.5x cfssl's | ${fmt(ours / cfssl, 2)}x (${fmt(ours)} vs ${fmt(cfssl)} ms) | ${Number.isFinite(cfssl) ? verdict(ours <= 0.5 * cfssl) : 'no cfssl'} |`);
lines.push(`| RSA-4096 per key vs the openssl script | ${fmt(ours / openssl, 2)}x (${fmt(ours)} vs ${fmt(openssl)} ms) | |`);
lines.push(`| ECDSA rebuild within 3x bare node start | ${fmt(rebuild / floor, 2)}x (${fmt(rebuild)} vs ${fmt(floor)} ms) | ${verdict(rebuild <= 3 * floor)} |`);
// Linear in members: a least-squares line through the builds of 3 to 15 members, and how well it fits (R²).
// Two points always fit a line, and single increments of a few tens of ms are mostly noise; a fit over
// five sizes is not.
const points = [3, ...SIZES].map((n) => [n, find(`etcd-gen build, ${n} members, ECDSA`)?.ms ?? NaN] as const);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const mx = mean(points.map(([x]) => x));
const my = mean(points.map(([, y]) => y));
const slope = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0) / points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
const intercept = my - slope * mx;
const r2 = 1 - points.reduce((a, [x, y]) => a + (y - (intercept + slope * x)) ** 2, 0) / points.reduce((a, [, y]) => a + (y - my) ** 2, 0);
lines.push(
  `| build time linear in members: least-squares fit over 3 to 15 members | ${fmt(slope, 1)} ms per member + ${fmt(intercept)} ms, R² ${fmt(r2, 3)} | ${verdict(r2 >= 0.97)} |`,
);
process.stdout.write(`${lines.join('\n')}\n`);
