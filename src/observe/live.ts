/**
 * The live cluster as an input: every member of out/ asked at once, over etcd's gRPC-gateway JSON
 * (HTTPS on the client URL, with the admin certificate) and two TLS handshakes per member (client and
 * peer URL) for the certificates it serves. Read only: nothing here writes to etcd.
 *
 * The gateway's routes, the same on 3.4 to 3.7 (etcd's api/etcdserverpb/rpc.proto, `option
 * (google.api.http)`; etcd docs "gRPC gateway"): POST /v3/cluster/member/list, /v3/maintenance/status,
 * /v3/maintenance/alarm (action GET, the default) and /v3/kv/range; GET /version is etcd's own HTTP
 * handler. uint64 fields (ids, sizes, indexes) arrive as decimal strings (proto3 JSON), absent when 0.
 */
import { X509Certificate } from 'node:crypto';
import https from 'node:https';
import tls from 'node:tls';
import type { EndpointStatus, LiveAlarm, LiveCluster, LiveEndpoint, LiveMember, Reading, ServedCertificate } from './types.js';

/** The admin client's TLS material (PEM) and the CA bundle that verifies the members. */
export interface ClientTls {
  ca: string;
  cert: string;
  key: string;
}

/** Where to find each member, as out/expected.json gives it. */
export interface MemberAddress {
  name: string;
  clientUrl: string;
  peerUrl: string;
}

/** Per-request bound, ms: every request runs at once, so a whole reading takes about one bound at most. */
export const DEFAULT_TIMEOUT_MS = 2000;

type Json = Record<string, unknown>;

/** A proto3 JSON uint64 (decimal string, absent when 0) as hex, the way etcdctl prints ids. */
export const hexId = (v: unknown): string => BigInt(typeof v === 'string' || typeof v === 'number' ? v : 0).toString(16);
const num = (v: unknown): number => (typeof v === 'string' || typeof v === 'number' ? Number(v) : 0);
const message = (err: unknown): string => (err instanceof Error ? ((err as NodeJS.ErrnoException).code ?? err.message) : String(err));

async function reading<T>(fn: () => Promise<T>): Promise<Reading<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    return { ok: false, error: message(err) };
  }
}

/** One gateway request: POST with a JSON body, or GET when body is null. Rejects on a non-2xx answer (with etcd's error text) or after timeoutMs. */
function gateway(base: string, route: string, body: Json | null, auth: ClientTls, timeoutMs: number): Promise<Json> {
  const url = new URL(route, base);
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: body ? 'POST' : 'GET',
        ...auth,
        agent: false,
        servername: tlsServername(url.hostname),
        // The chain must be out/'s CA; the names are not checked here: a member serving a certificate
        // for other names is a finding of servedCertificate, not a member down.
        checkServerIdentity: () => undefined,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          clearTimeout(timer);
          let parsed: Json = {};
          try {
            parsed = JSON.parse(text || '{}') as Json;
          } catch {
            return reject(new Error(`${route}: not JSON: ${text.slice(0, 120)}`));
          }
          if ((res.statusCode ?? 500) >= 300) return reject(new Error(`${route}: ${String(parsed.error ?? parsed.message ?? res.statusCode)}`));
          resolve(parsed);
        });
      },
    );
    const timer = setTimeout(() => req.destroy(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

/** SNI takes a DNS name only (RFC 6066 section 3): none for an IP. */
function tlsServername(hostname: string): string | undefined {
  return /^[\d.]+$/.test(hostname) || hostname.startsWith('[') ? undefined : hostname;
}

/**
 * The certificate a URL serves, from the handshake alone. On a peer URL no client certificate is sent:
 * etcd refuses the connection for it, but under TLS 1.3 (RFC 8446 section 4.4) the server sends its
 * Certificate and Finished before it reads the client's, so the handshake completes on our side first.
 * The chain and the URL's host are checked against `ca` as a client would (trusted, refusal), not
 * enforced: a certificate that is not out/'s is a finding, not a failure.
 */
export function servedCertificate(urlText: string, auth: ClientTls, withClientCert: boolean, timeoutMs: number, now: Date): Promise<ServedCertificate> {
  const url = new URL(urlText);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host,
      port: Number(url.port),
      servername: tlsServername(url.hostname),
      ca: auth.ca,
      ...(withClientCert ? { cert: auth.cert, key: auth.key } : {}),
      rejectUnauthorized: false,
    });
    const timer = setTimeout(() => socket.destroy(new Error(`no handshake in ${timeoutMs} ms`)), timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const peerCert = socket.getPeerCertificate();
      const raw = peerCert.raw;
      const protocol = socket.getProtocol() ?? '';
      const trusted = socket.authorized;
      // Node gives a code only (ERR_TLS_CERT_ALTNAME_INVALID); checkServerIdentity says which names.
      const code = socket.authorizationError ? String(socket.authorizationError) : null;
      const refusal = code === 'ERR_TLS_CERT_ALTNAME_INVALID' ? (tls.checkServerIdentity(host, peerCert)?.message ?? code) : code;
      socket.destroy();
      if (!raw) return reject(new Error('the server sent no certificate'));
      const cert = new X509Certificate(raw);
      const notAfter = new Date(cert.validTo);
      resolve({ sha256: cert.fingerprint256, notAfter: notAfter.toISOString(), daysLeft: Math.floor((notAfter.getTime() - now.getTime()) / 86_400_000), trusted, refusal, protocol });
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

function endpointStatus(r: Json): EndpointStatus {
  const header = (r.header ?? {}) as Json;
  return {
    id: hexId(header.member_id),
    release: String(r.version ?? ''),
    leader: hexId(r.leader),
    raftIndex: num(r.raftIndex),
    raftTerm: num(r.raftTerm),
    dbSize: num(r.dbSize),
    dbSizeInUse: num(r.dbSizeInUse),
    dbSizeQuota: r.dbSizeQuota === undefined ? null : num(r.dbSizeQuota),
    learner: r.isLearner === true,
    errors: Array.isArray(r.errors) ? r.errors.map(String) : [],
  };
}

function members(r: Json): LiveMember[] {
  const list = Array.isArray(r.members) ? (r.members as Json[]) : [];
  return list.map((m) => ({
    id: hexId(m.ID),
    name: String(m.name ?? ''),
    peerURLs: Array.isArray(m.peerURLs) ? m.peerURLs.map(String) : [],
    clientURLs: Array.isArray(m.clientURLs) ? m.clientURLs.map(String) : [],
    learner: m.isLearner === true,
  }));
}

function alarms(r: Json): LiveAlarm[] {
  const list = Array.isArray(r.alarms) ? (r.alarms as Json[]) : [];
  return list.map((a) => ({ memberId: hexId(a.memberID), alarm: String(a.alarm ?? 'NONE') }));
}

/** Everything one member answers, all requests at once. Member list and alarms are asked too: the first member with a quorum gives them. */
async function askMember(m: MemberAddress, auth: ClientTls, timeoutMs: number, now: Date) {
  const ask = (route: string, body: Json | null) => gateway(m.clientUrl, route, body, auth, timeoutMs);
  const [status, version, quorumRead, server, peer, list, alarm] = await Promise.all([
    reading(async () => endpointStatus(await ask('/v3/maintenance/status', {}))),
    reading(async () => {
      const v = await ask('/version', null);
      return { server: String(v.etcdserver ?? ''), cluster: String(v.etcdcluster ?? '') };
    }),
    // A linearizable read of one key, as `etcdctl endpoint health` does: it needs a quorum.
    reading(async () => ({ revision: num(((await ask('/v3/kv/range', { key: Buffer.from('health').toString('base64') })).header as Json | undefined)?.revision) })),
    reading(() => servedCertificate(m.clientUrl, auth, true, timeoutMs, now)),
    reading(() => servedCertificate(m.peerUrl, auth, false, timeoutMs, now)),
    reading(async () => {
      const r = await ask('/v3/cluster/member/list', {});
      return { members: members(r), clusterId: hexId((r.header as Json | undefined)?.cluster_id) };
    }),
    reading(async () => alarms(await ask('/v3/maintenance/alarm', {}))),
  ]);
  const endpoint: LiveEndpoint = { name: m.name, clientUrl: m.clientUrl, peerUrl: m.peerUrl, status, version, quorumRead, server, peer };
  return { endpoint, list, alarm };
}

/**
 * Reads the live cluster: every member of `addresses` at once, each request bounded by `timeoutMs`.
 * Never throws for an unreachable member: each fact is a Reading. The cluster-wide facts (members,
 * alarms, cluster version, revision) come from the first member, in out/'s order, that answered a
 * linearizable read; without one they are null (no quorum).
 */
export async function readLiveCluster(addresses: readonly MemberAddress[], auth: ClientTls, options: { timeoutMs?: number; now?: Date } = {}): Promise<LiveCluster> {
  const now = options.now ?? new Date();
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const started = performance.now();
  const answers = await Promise.all(addresses.map((m) => askMember(m, auth, timeoutMs, now)));
  const elapsedMs = Math.round(performance.now() - started);
  // The first member, in out/'s order, that answered a linearizable read and the member list.
  const withQuorum = answers.find((a) => a.endpoint.quorumRead.ok && a.list.ok);
  const list = withQuorum?.list.ok ? withQuorum.list.value : null;
  const read = withQuorum?.endpoint.quorumRead;
  const version = withQuorum?.endpoint.version;
  let alarmList: LiveAlarm[] | null = null;
  for (const a of answers) if (alarmList === null && a.endpoint.quorumRead.ok && a.alarm.ok) alarmList = a.alarm.value;
  return {
    observedAt: now.toISOString(),
    elapsedMs,
    quorum: withQuorum !== undefined,
    endpoints: answers.map((a) => a.endpoint),
    clusterId: list?.clusterId ?? null,
    revision: read?.ok ? read.value.revision : null,
    clusterVersion: version?.ok ? version.value.cluster : null,
    members: list?.members ?? null,
    alarms: withQuorum === undefined ? null : alarmList,
  };
}
