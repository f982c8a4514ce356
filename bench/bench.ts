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

interface Scenario {
  name: string;
  keys: number;
  /** Runs untimed before each timed run. */
  prepare: () => void;
  cmd: string;
  args: string[];
  cwd: string;
}

/**
 * Median wall time in ms of each scenario over `runs` rounds. The scenarios take turns within a round, so
 * a change in the machine's speed during the bench (this host's varies) falls on all of them alike and
 * the ratios between them hold; a `sync` before each run keeps one scenario's disk writes out of the next.
 */
function measureTogether(runs: number, scenarios: readonly Scenario[]): number[] {
  const times: number[][] = scenarios.map(() => []);
  for (let i = 0; i < runs; i++) {
    scenarios.forEach((sc, j) => {
      sc.prepare();
      // Untimed: the previous scenario's writes go to disk now, not during this one.
      spawnSync('sync');
      const start = process.hrtime.bigint();
      const r = spawnSync(sc.cmd, sc.args, { cwd: sc.cwd, encoding: 'utf8' });
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (r.status !== 0) throw new Error(`${sc.cmd} ${sc.args.join(' ')} failed: ${r.stderr}`);
      times[j]?.push(ms);
    });
  }
  return times.map((ts) => {
    ts.sort((a, b) => a - b);
    return ts[Math.floor(ts.length / 2)] ?? NaN;
  });
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

const nothing = () => undefined;
const build = (dir: string): Pick<Scenario, 'cmd' | 'args' | 'cwd'> => ({ cmd: process.execPath, args: [cli, 'build', 'cluster.yaml', '-o', 'out'], cwd: dir });
const addAll = (runs: number, scenarios: Scenario[]) => measureTogether(runs, scenarios).forEach((ms, i) => add(scenarios[i]?.name ?? '?', ms, scenarios[i]?.keys ?? 0));

// RSA-4096: etcd-gen against the seed's pipeline and an openssl script, taking turns.
const rsa: Scenario[] = [];
const rsa3 = project('rsa3', cluster(3, 'rsa-4096'));
rsa.push({ name: 'etcd-gen build, 3 members, RSA-4096, new PKI', keys: 9, prepare: fresh(rsa3), ...build(rsa3) });

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
  rsa.push({ name: 'cfssl (seed), CA + shared peer + client, RSA-4096', keys: 3, prepare: nothing, cmd: 'bash', args: ['-c', script], cwd: dir });
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
  rsa.push({ name: 'openssl script, CA + shared peer + client, RSA-4096', keys: 3, prepare: nothing, cmd: 'bash', args: ['-c', script], cwd: dir });
}

// Start-up floor, ECDSA builds of 3 to 15 members (the linearity fit), and a rebuild, taking turns.
const ec3 = project('ec3', cluster(3, 'ecdsa-p256'));
const SIZES = [3, 6, 9, 12, 15];
const ecdsa: Scenario[] = [
  { name: 'node -e 0 (floor)', keys: 0, prepare: nothing, cmd: process.execPath, args: ['-e', '0'], cwd: work },
  ...SIZES.map((n) => {
    const dir = n === 3 ? ec3 : project(`ec${n}`, cluster(n, 'ecdsa-p256'));
    return { name: `etcd-gen build, ${n} members, ECDSA P-256, new PKI`, keys: 2 * n + 3, prepare: fresh(dir), ...build(dir) };
  }),
  // After the 3-member build of the same round: its secrets and output are there.
  { name: 'etcd-gen rebuild, 3 members, ECDSA, existing secrets', keys: 0, prepare: nothing, ...build(ec3) },
];
addAll(RUNS, ecdsa);
addAll(rsaRuns, rsa);

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
const points = SIZES.map((n) => [n, find(`etcd-gen build, ${n} members, ECDSA`)?.ms ?? NaN] as const);
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
