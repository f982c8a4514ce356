/**
 * out/monitoring/, live: a real Prometheus (Debian's prometheus package) runs with the generated
 * configuration, rules and client certificate, scrapes every member of a real 3-member cluster over mTLS,
 * and fires EtcdMemberDown when a member is killed, as its API reports. Prometheus's intervals and the
 * alert's `for` are shortened in a copy of the files (minutes in production, seconds here); the expressions,
 * the TLS settings and the certificate are the generated ones.
 */
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { needTools, tempDir } from '../helpers.js';
import { sleep, startLoopbackCluster, type LoopbackCluster } from '../harness/cluster.js';
import { testEachRelease } from '../harness/releases.js';

/** GET a Prometheus API path from inside the cluster's network namespace; the parsed `data`. */
function api(cluster: LoopbackCluster, apiPath: string): unknown {
  const r = cluster.ns(process.execPath, ['-e', `fetch('http://127.0.0.1:19090${apiPath}').then((r) => r.text()).then((b) => process.stdout.write(b), (e) => { console.error(String(e)); process.exit(1); })`], { timeout: 15_000 });
  if (r.status !== 0) return null;
  return (JSON.parse(r.stdout) as { data: unknown }).data;
}

async function waitFor<T>(what: () => T | null | undefined, ms: number): Promise<T | null> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(1000)) {
    const v = what();
    if (v) return v;
  }
  return null;
}

testEachRelease('Prometheus scrapes every member over mTLS with the generated files, and fires EtcdMemberDown for a killed member', '3.7', { timeout: 300_000 }, async (t, release) => {
  if (!needTools(t, ['prometheus', 'promtool'])) return;
  const cluster = await startLoopbackCluster(t, { name: 'mon', release, extraYaml: 'monitoring: { enabled: true }\n' });
  if (!cluster) return;

  const dir = path.join(tempDir(t), 'monitoring');
  cpSync(path.join(cluster.out, 'monitoring'), dir, { recursive: true });
  const config = path.join(dir, 'prometheus.yml');
  writeFileSync(config, readFileSync(config, 'utf8').replace(/scrape_interval: 15s/, 'scrape_interval: 1s').replace(/evaluation_interval: 15s/, 'evaluation_interval: 1s'));
  const rules = path.join(dir, 'etcd-alerts.yml');
  writeFileSync(rules, readFileSync(rules, 'utf8').replace(/(alert: EtcdMemberDown[\s\S]*?for: )3m/, '$15s'));

  const prometheus = spawn('ip', ['netns', 'exec', cluster.netns, 'prometheus', `--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, '--web.listen-address=127.0.0.1:19090'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  prometheus.stderr.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-20_000)));
  t.after(() => {
    prometheus.kill('SIGKILL');
  });

  // Every member is a target that is up: the scrape passed the members' client certificate check.
  type Target = { labels: { member: string }; health: string; lastError: string };
  const up = await waitFor(() => {
    const targets = (api(cluster, '/api/v1/targets') as { activeTargets: Target[] } | null)?.activeTargets ?? [];
    return targets.length === 3 && targets.every((x) => x.health === 'up') ? targets : null;
  }, 60_000);
  assert.ok(up, `every member's target is up:\n${JSON.stringify(api(cluster, '/api/v1/targets'))}\n${log}`);
  assert.deepEqual(up.map((x) => x.labels.member).sort(), ['m1', 'm2', 'm3']);
  type Sample = { metric: Record<string, string>; value: [number, string] };
  const leaders = api(cluster, '/api/v1/query?query=sum(etcd_server_has_leader%7Bjob%3D%22etcd%22%7D)') as { result: Sample[] } | null;
  assert.equal(leaders?.result[0]?.value[1], '3', 'each member reports a leader, through the scrape');

  // A member killed: its target goes down and the alert fires for it, and only for it.
  await cluster.kill('m3');
  type Alert = { labels: { alertname: string; member: string }; state: string };
  const firing = await waitFor(() => {
    const alerts = (api(cluster, '/api/v1/alerts') as { alerts: Alert[] } | null)?.alerts ?? [];
    const down = alerts.filter((a) => a.labels.alertname === 'EtcdMemberDown' && a.state === 'firing');
    return down.length > 0 ? down : null;
  }, 90_000);
  assert.ok(firing, `EtcdMemberDown fires:\n${JSON.stringify(api(cluster, '/api/v1/alerts'))}`);
  assert.deepEqual(firing.map((a) => a.labels.member), ['m3']);
  t.diagnostic(`EtcdMemberDown firing for ${firing.map((a) => a.labels.member).join(', ')}; the quorum kept: no EtcdInsufficientMembers`);
  const all = (api(cluster, '/api/v1/alerts') as { alerts: Alert[] } | null)?.alerts ?? [];
  assert.ok(!all.some((a) => a.labels.alertname === 'EtcdInsufficientMembers'), 'two of three members are a quorum');
});
