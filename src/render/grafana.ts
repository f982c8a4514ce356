/**
 * Stage 7, render (its JSON part): the Grafana dashboard of out/monitoring/, built as data and written
 * with JSON.stringify (a template cannot say JSON's quoting right). Pure.
 * Panels follow etcd's own monitoring mixin (etcd-io/etcd contrib/mixin): members up, leader, leader
 * changes, proposals, database size against the quota, WAL fsync and backend commit latency, peer traffic.
 * Format: Grafana's dashboard JSON model (schemaVersion 39), with a Prometheus data source variable.
 */
import { type ClusterModel, type MonitoringModel } from '../model/types.js';

interface Panel {
  title: string;
  type: 'stat' | 'timeseries';
  unit: string;
  description: string;
  targets: { expr: string; legendFormat: string }[];
}

/** The dashboard of cluster MODEL as Grafana imports it: JSON text ending in a newline. */
export function grafanaDashboard(model: ClusterModel & { monitoring: MonitoringModel }, notice: string): string {
  const sel = model.monitoring.selector;
  const panels: Panel[] = [
    { title: 'Members up', type: 'stat', unit: 'none', description: `Of ${model.members.length}; the cluster needs ${model.quorum} for a quorum.`, targets: [{ expr: `sum(up${sel})`, legendFormat: 'up' }] },
    { title: 'Members with a leader', type: 'stat', unit: 'none', description: 'A member without a leader serves no writes.', targets: [{ expr: `sum(etcd_server_has_leader${sel})`, legendFormat: 'with a leader' }] },
    { title: 'Leader changes (1 h)', type: 'stat', unit: 'none', description: 'Elections: missed heartbeats, slow disks, restarts.', targets: [{ expr: `max(increase(etcd_server_leader_changes_seen_total${sel}[1h]))`, legendFormat: 'changes' }] },
    { title: 'Database size against the quota', type: 'timeseries', unit: 'bytes', description: 'At the quota etcd raises NOSPACE (runbooks/defrag.sh).', targets: [{ expr: `etcd_mvcc_db_total_size_in_bytes${sel}`, legendFormat: '{{member}} size' }, { expr: `etcd_mvcc_db_total_size_in_use_in_bytes${sel}`, legendFormat: '{{member}} in use' }, { expr: `max(etcd_server_quota_backend_bytes${sel})`, legendFormat: 'quota' }] },
    { title: 'Proposals', type: 'timeseries', unit: 'ops', description: 'Committed and failed raft proposals a second.', targets: [{ expr: `sum(rate(etcd_server_proposals_committed_total${sel}[5m]))`, legendFormat: 'committed' }, { expr: `sum(rate(etcd_server_proposals_failed_total${sel}[5m]))`, legendFormat: 'failed' }] },
    { title: 'WAL fsync, 99th percentile', type: 'timeseries', unit: 's', description: "etcd's hardware guide: under 10 ms on a good disk.", targets: [{ expr: `histogram_quantile(0.99, sum by (member, le) (rate(etcd_disk_wal_fsync_duration_seconds_bucket${sel}[5m])))`, legendFormat: '{{member}}' }] },
    { title: 'Backend commit, 99th percentile', type: 'timeseries', unit: 's', description: 'Under 25 ms on a good disk.', targets: [{ expr: `histogram_quantile(0.99, sum by (member, le) (rate(etcd_disk_backend_commit_duration_seconds_bucket${sel}[5m])))`, legendFormat: '{{member}}' }] },
    { title: 'Peer traffic', type: 'timeseries', unit: 'Bps', description: 'Bytes a second sent to and received from the other members.', targets: [{ expr: `sum by (member) (rate(etcd_network_peer_sent_bytes_total${sel}[5m]))`, legendFormat: '{{member}} sent' }, { expr: `sum by (member) (rate(etcd_network_peer_received_bytes_total${sel}[5m]))`, legendFormat: '{{member}} received' }] },
  ];
  const dashboard = {
    title: `etcd cluster ${model.name}`,
    uid: `etcd-gen-${model.name}`.slice(0, 40),
    description: notice,
    tags: ['etcd', 'etcd-gen'],
    timezone: 'utc',
    schemaVersion: 39,
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    templating: { list: [{ name: 'datasource', label: 'Prometheus', type: 'datasource', query: 'prometheus' }] },
    panels: panels.map((p, i) => ({
      id: i + 1,
      title: p.title,
      type: p.type,
      description: p.description,
      datasource: { type: 'prometheus', uid: '${datasource}' },
      gridPos: p.type === 'stat' ? { x: i * 8, y: 0, w: 8, h: 4 } : { x: ((i - 3) % 2) * 12, y: 4 + Math.floor((i - 3) / 2) * 8, w: 12, h: 8 },
      fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
      targets: p.targets.map((t, j) => ({ refId: String.fromCharCode(65 + j), expr: t.expr, legendFormat: t.legendFormat })),
    })),
  };
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}
