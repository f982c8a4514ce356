/**
 * `etcd-gen import`: reads what the manual procedure (cfssl plus per-node heredocs, README "It replaces the
 * manual cfssl-and-heredoc procedure") left in its env directory and describes that same cluster as a
 * cluster.yaml, with its CA kept so that trust carries over:
 *
 * - `<node>.conf`, one per member: `NODE_NAME`, `NODE_ADDRESS` (the peer URL), `CLUSTER_NODES`
 *   (etcd's `--initial-cluster`: `name=peerURL,...`), `CLUSTER_TOKEN`, `CLIENT_PORT`, `PEERS_PORT`;
 * - `ca.pem` and `ca-key.pem` from `cfssl gencert -initca | cfssljson -bare ca` (the key PKCS#1);
 * - optionally `etcd-csr.json` (the shared certificate's `hosts`: names beyond the members become
 *   `tls.extraSANs`), `etcd-peer.pem` and `etcd-client.pem` (the shared certificates, to revoke after the
 *   move), and the running cluster's `etcdctl member list -w json`.
 *
 * Pure but for `readProcedureDir` and `writeImport`. Every problem is a diagnostic at FILE:LINE:COL.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { InputError, toPointer, type Diagnostic } from '../diagnostics.js';
import { FileTransaction } from '../output/transaction.js';
import { parseClusterSource } from '../input/load.js';
import { importMessages as m } from '../messages.js';
import { keyTypeOf, readPrivateKey } from '../pki/inspect.js';
import { PROCEDURE_RECORD, type ProcedureRecord } from '../pki/revoke.js';
import { SECRETS_GITIGNORE } from '../pki/store.js';
import { packageRoot } from '../resources.js';
import { validateCluster } from '../input/validate.js';

/** The fields each `<node>.conf` of the procedure has (its "Set up cluster config" heredoc). */
export const CONF_FIELDS = ['NODE_NAME', 'NODE_ADDRESS', 'CLUSTER_NODES', 'CLUSTER_TOKEN', 'CLIENT_PORT', 'PEERS_PORT'] as const;
type ConfField = (typeof CONF_FIELDS)[number];

/** A value with where it was read: the file as the user named it, 1-based line and column. */
export interface Sourced {
  value: string;
  file: string;
  line: number;
  column: number;
}

/** One parsed `<node>.conf`. */
export interface ConfFile {
  file: string;
  fields: Partial<Record<ConfField, Sourced>>;
}

/** What the env directory holds, as text, by file name (read by readProcedureDir). */
export interface ProcedureFiles {
  dir: string;
  /** `*.conf` files, by path as the user names them. */
  confs: Map<string, string>;
  caCert: string | null;
  caKey: string | null;
  csr: string | null;
  sharedCerts: Map<string, string>;
}

export interface ImportOptions {
  /** Cluster name (a DNS label); default: the first member name's first label without its `-etcdN` end. */
  name?: string;
  /** The release the members run (`etcd --version`), which decides the flags. */
  etcdVersion: string;
  /** The members' data directory, kept in place by the move. Default /var/lib/etcd (the procedure's). */
  dataDir?: string;
  /** `etcdctl member list -w json` of the running cluster, and its file name. */
  memberList?: { file: string; text: string };
  /** Where the cluster.yaml will be written (for its name in comments and diagnostics). */
  configFile: string;
}

export interface ImportResult {
  clusterYaml: string;
  caCertPem: string;
  caKeyPem: string;
  /** What could not be mapped, or what the operator must know, one sentence each. */
  notes: string[];
  /** The shared certificates found, to revoke once every member has its own: file and serial. */
  sharedCerts: { file: string; serial: string; subject: string }[];
  warnings: Diagnostic[];
}

const diag = (severity: 'error' | 'warning', at: { file: string; line: number; column: number }, field: string, message: string): Diagnostic => ({
  severity,
  file: at.file,
  pointer: field === '' ? '' : toPointer([field]),
  position: { line: at.line, column: at.column },
  message,
});

/**
 * Parses one `<node>.conf`: `KEY=VALUE` lines (blank lines and `#` comments allowed; a value may be in
 * matching single or double quotes, as systemd's EnvironmentFile reads it). Unknown keys are noted, a
 * key given twice, a line without `=` and a missing field are errors at their line.
 */
export function parseConf(file: string, text: string, notes: string[]): { conf: ConfFile; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const fields: ConfFile['fields'] = {};
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (/^\s*(#.*)?$/.test(line)) return;
    const at = { file, line: i + 1, column: 1 };
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!match) return diagnostics.push(diag('error', at, '', m.confSyntax(line)));
    const key = match[1] as string;
    let value = match[2] as string;
    const column = line.indexOf('=') + 2;
    const quoted = /^(['"])(.*)\1$/.exec(value);
    if (quoted) value = quoted[2] as string;
    if (!(CONF_FIELDS as readonly string[]).includes(key)) {
      notes.push(m.unknownConfKey(`${file}:${i + 1}`, key));
      return;
    }
    const prior = fields[key as ConfField];
    if (prior) return diagnostics.push(diag('error', { ...at, column }, key, m.confDuplicate(key, prior.line)));
    fields[key as ConfField] = { value, file, line: i + 1, column };
  });
  for (const field of CONF_FIELDS) {
    if (!fields[field]) diagnostics.push(diag('error', { file, line: Math.max(1, lines.length), column: 1 }, field, m.confMissing(field)));
  }
  return { conf: { file, fields }, diagnostics };
}

/** `https://host:port` with a DNS name or IP host; the host and port, or null. */
function parsePeerUrl(url: string): { host: string; port: number } | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== 'https:' || u.port === '' || u.pathname !== '/' || u.username || u.search || url.endsWith('/')) return null;
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  return { host, port: Number(u.port) };
}

function parsePort(s: Sourced, field: string, diagnostics: Diagnostic[]): number | null {
  if (!/^\d{1,5}$/.test(s.value) || Number(s.value) < 1 || Number(s.value) > 65535) {
    diagnostics.push(diag('error', s, field, m.confBadPort(field, s.value)));
    return null;
  }
  return Number(s.value);
}

/** A member as CLUSTER_NODES names it, with the entry it came from. */
export interface Member {
  name: string;
  host: string;
  origin: Sourced;
}

/** The cluster-wide fields of the conf files (the same in every file), with the ports read. */
export interface SharedFields {
  token: Sourced;
  clusterNodes: Sourced;
  clientPortText: Sourced;
  peerPortText: Sourced;
  clientPort: number | null;
  peerPort: number | null;
}

/** Phase 1: every conf file parsed; problems go into `diagnostics`, unknown keys into `notes`. */
export function parseConfs(files: ProcedureFiles, diagnostics: Diagnostic[], notes: string[]): ConfFile[] {
  if (files.confs.size === 0) diagnostics.push(diag('error', { file: files.dir, line: 1, column: 1 }, '', m.noConfFiles));
  const confs: ConfFile[] = [];
  for (const [file, text] of files.confs) {
    const parsed = parseConf(file, text, notes);
    diagnostics.push(...parsed.diagnostics);
    confs.push(parsed.conf);
  }
  return confs;
}

/**
 * Phase 2: the cluster-wide fields, which every file must give alike (each difference is a problem at the
 * later file), and the two ports, each checked in every file. `confs` is non-empty and fully parsed.
 */
export function sharedFields(confs: readonly ConfFile[], diagnostics: Diagnostic[]): SharedFields {
  const shared = (field: ConfField): Sourced => {
    const first = confs[0]?.fields[field] as Sourced;
    for (const c of confs.slice(1)) {
      const v = c.fields[field] as Sourced;
      if (v.value !== first.value) diagnostics.push(diag('error', v, field, m.confDisagrees(field, v.value, `${first.file}:${first.line}`, first.value)));
    }
    return first;
  };
  const token = shared('CLUSTER_TOKEN');
  const clusterNodes = shared('CLUSTER_NODES');
  const clientPortText = shared('CLIENT_PORT');
  const peerPortText = shared('PEERS_PORT');
  for (const c of confs.slice(1)) {
    for (const field of ['CLIENT_PORT', 'PEERS_PORT'] as const) parsePort(c.fields[field] as Sourced, field, diagnostics);
  }
  const clientPort = parsePort(clientPortText, 'CLIENT_PORT', diagnostics);
  const peerPort = parsePort(peerPortText, 'PEERS_PORT', diagnostics);
  return { token, clusterNodes, clientPortText, peerPortText, clientPort, peerPort };
}

/**
 * Phase 3: CLUSTER_NODES, `name=https://host:port` comma-separated (etcd's --initial-cluster), as members
 * each at its column. `badEntries` is true when an entry could not be read (then conf files whose member
 * is missing are not reported again).
 */
export function clusterMembers(clusterNodes: Sourced, peerPort: number | null, diagnostics: Diagnostic[]): { members: Member[]; badEntries: boolean } {
  const members: Member[] = [];
  let badEntries = false;
  let offset = 0;
  for (const entry of clusterNodes.value.split(',')) {
    const at: Sourced = { ...clusterNodes, column: clusterNodes.column + offset, value: entry };
    offset += entry.length + 1;
    const eq = entry.indexOf('=');
    const url = eq > 0 ? parsePeerUrl(entry.slice(eq + 1)) : null;
    if (eq <= 0 || url === null) {
      diagnostics.push(diag('error', at, 'CLUSTER_NODES', m.clusterNodesEntry(entry)));
      badEntries = true;
      continue;
    }
    const name = entry.slice(0, eq);
    if (peerPort !== null && url.port !== peerPort) diagnostics.push(diag('error', at, 'CLUSTER_NODES', m.peerPortDiffers(entry, peerPort)));
    if (members.some((x) => x.name === name)) diagnostics.push(diag('error', at, 'CLUSTER_NODES', m.clusterNodesDuplicate(name)));
    members.push({ name, host: url.host, origin: at });
  }
  return { members, badEntries };
}

/**
 * Phase 4: each conf file is one of the members, once, at the same peer URL; a member with no conf file
 * is a note.
 */
export function checkConfsAgainstMembers(
  confs: readonly ConfFile[],
  cluster: { members: readonly Member[]; badEntries: boolean; clusterNodes: Sourced; peerPort: number | null },
  diagnostics: Diagnostic[],
  notes: string[],
): void {
  const { members, badEntries, clusterNodes, peerPort } = cluster;
  const seen = new Set<string>();
  for (const c of confs) {
    const name = c.fields.NODE_NAME as Sourced;
    const address = c.fields.NODE_ADDRESS as Sourced;
    const member = members.find((x) => x.name === name.value);
    if (!member) {
      if (badEntries) continue;
      diagnostics.push(diag('error', name, 'NODE_NAME', m.nodeNotInCluster(name.value, `${clusterNodes.file}:${clusterNodes.line}`)));
      continue;
    }
    if (seen.has(name.value)) diagnostics.push(diag('error', name, 'NODE_NAME', m.nodeTwice(name.value)));
    seen.add(name.value);
    const url = parsePeerUrl(address.value);
    if (url === null) diagnostics.push(diag('error', address, 'NODE_ADDRESS', m.badNodeAddress(address.value)));
    else if (url.host !== member.host || (peerPort !== null && url.port !== peerPort)) {
      diagnostics.push(diag('error', address, 'NODE_ADDRESS', m.nodeAddressDiffers(address.value, member.origin.value)));
    }
  }
  for (const x of members) if (!seen.has(x.name)) notes.push(m.memberWithoutConf(x.name, `${clusterNodes.file}:${clusterNodes.line}`));
}

/**
 * Phase 5: the CA (ca.pem, ca-key.pem): both halves, a CA certificate, a key type etcd-gen issues with,
 * a key in the clear that is its own. Gives the key type (`tls.key`), or null after a problem.
 */
export function checkCa(files: ProcedureFiles, diagnostics: Diagnostic[]): string | null {
  const caFile = path.join(files.dir, 'ca.pem');
  const caKeyFile = path.join(files.dir, 'ca-key.pem');
  const at1 = (file: string) => ({ file, line: 1, column: 1 });
  if (files.caCert === null || files.caKey === null) {
    diagnostics.push(diag('error', at1(files.caCert === null ? caFile : caKeyFile), '', m.caMissing(caFile, caKeyFile)));
    return null;
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(files.caCert);
  } catch {
    diagnostics.push(diag('error', at1(caFile), '', m.caNotACert));
    return null;
  }
  const caType = keyTypeOf(cert);
  if (!cert.ca) diagnostics.push(diag('error', at1(caFile), '', m.caNotCa));
  if (caType === null) diagnostics.push(diag('error', at1(caFile), '', m.caKeyType));
  const key = readPrivateKey(files.caKey);
  if ('problem' in key) diagnostics.push(diag('error', at1(caKeyFile), '', key.problem === 'encrypted' ? m.caKeyEncrypted : m.caKeyNotAKey));
  else {
    let matches = false;
    try {
      matches = cert.checkPrivateKey(key.key);
    } catch {
      matches = false;
    }
    if (!matches) diagnostics.push(diag('error', at1(caKeyFile), '', m.caKeyMismatch(caFile)));
  }
  return caType;
}

/**
 * Phase 6: what the shared certificates carry over. The names of etcd-csr.json beyond the members'
 * hosts and loopback (a load balancer), kept as extraSANs; and the shared certificates' serials, for
 * their revocation after the move. An unreadable file is a note.
 */
export function sharedCertificates(files: ProcedureFiles, members: readonly Member[], notes: string[]): { extraSANs: string[]; sharedCerts: ImportResult['sharedCerts'] } {
  const extraSANs: string[] = [];
  if (files.csr !== null) {
    try {
      const hosts = (JSON.parse(files.csr) as { hosts?: unknown }).hosts;
      if (Array.isArray(hosts)) {
        for (const h of hosts) {
          if (typeof h !== 'string' || h === '' || ['localhost', '127.0.0.1', '::1'].includes(h)) continue;
          if (members.some((x) => x.host === h || x.name === h) || extraSANs.includes(h)) continue;
          extraSANs.push(h);
        }
      }
    } catch {
      notes.push(m.csrUnreadable(path.join(files.dir, 'etcd-csr.json')));
    }
  }
  const sharedCerts: ImportResult['sharedCerts'] = [];
  for (const [file, pem] of files.sharedCerts) {
    try {
      const c = new X509Certificate(pem);
      sharedCerts.push({ file, serial: c.serialNumber.toLowerCase(), subject: c.subject.replace(/\n/g, ', ') });
    } catch {
      notes.push(m.sharedCertUnreadable(file));
    }
  }
  return { extraSANs, sharedCerts };
}

/** One line of the written cluster.yaml, with the procedure's line it came from (for its problems). */
export interface YamlLine {
  text: string;
  origin?: Sourced;
}

/**
 * Phase 7: the cluster.yaml text, each value with a comment saying where it came from, as lines that
 * keep their origin.
 */
export function clusterYamlLines(
  files: ProcedureFiles,
  options: ImportOptions,
  found: { fields: SharedFields; members: readonly Member[]; caType: string | null; extraSANs: readonly string[] },
): YamlLine[] {
  const { token, clusterNodes, clientPort, clientPortText, peerPort, peerPortText } = found.fields;
  const name = options.name ?? clusterNameFrom(found.members[0]?.name ?? '');
  const schemaFile = path.join(packageRoot, 'schema', 'cluster.schema.json');
  const relative = path.relative(path.dirname(path.resolve(options.configFile)), schemaFile);
  const schemaPath = relative.startsWith('..') && relative.split(path.sep).length > 6 ? schemaFile : relative.split(path.sep).join('/');
  const where = (s: Sourced): string => `${s.file}:${s.line}`;
  const q = (v: string): string => JSON.stringify(v);
  const lines: YamlLine[] = [
    { text: `# yaml-language-server: $schema=${schemaPath}` },
    { text: `# Written by etcd-gen import from ${files.dir}, the env directory of a cluster built by the manual` },
    { text: '# procedure. Each value says where it came from. The CA is kept (secrets/ca.crt, ca.key), so members' },
    { text: '# and clients keep trusting each other through the move (runbooks/takeover.sh), one member at a time.' },
    { text: `name: ${q(name)}${' '.repeat(Math.max(1, 28 - name.length))}# ${options.name ? '--name' : 'from the member names (--name to choose)'}` },
    { text: `token: ${q(token.value)}   # CLUSTER_TOKEN, ${where(token)}`, origin: token },
    { text: 'etcd:' },
    { text: `  version: ${q(options.etcdVersion)}${' '.repeat(Math.max(1, 20 - options.etcdVersion.length))}# --etcd-version: what the members run (etcd --version)` },
    { text: `nodes:                          # CLUSTER_NODES, ${where(clusterNodes)}` },
  ];
  for (const x of found.members) {
    lines.push({ text: `  - name: ${q(x.name)}`, origin: x.origin });
    lines.push({ text: `    host: ${q(x.host)}`, origin: x.origin });
  }
  lines.push({ text: 'ports:' });
  lines.push({ text: `  client: ${clientPort}                  # CLIENT_PORT, ${where(clientPortText)}`, origin: clientPortText });
  lines.push({ text: `  peer: ${peerPort}                    # PEERS_PORT, ${where(peerPortText)}`, origin: peerPortText });
  lines.push({ text: 'tls:' });
  lines.push({ text: `  key: ${found.caType}               # the CA's key type (ca.pem); new member certificates use it too` });
  if (found.extraSANs.length > 0) lines.push({ text: `  extraSANs: [${found.extraSANs.map(q).join(', ')}]   # etcd-csr.json hosts that name no member` });
  lines.push({ text: 'paths:' });
  lines.push({ text: `  data: ${q(options.dataDir ?? '/var/lib/etcd')}          # ${options.dataDir ? '--data-dir' : "the procedure's data directory (--data-dir if yours differs)"}: kept in place` });
  return lines;
}

/**
 * Phase 8: the written cluster.yaml must build. Its problems are reported at the procedure's line each
 * value came from; errors throw InputError, warnings come back.
 */
export function validateImported(lines: readonly YamlLine[], configFile: string): { clusterYaml: string; warnings: Diagnostic[] } {
  const clusterYaml = `${lines.map((l) => l.text).join('\n')}\n`;
  const result = validateCluster(parseClusterSource(clusterYaml, configFile));
  const mapped = result.diagnostics.map((d) => {
    const origin = lines[d.position.line - 1]?.origin;
    return origin ? { ...d, file: origin.file, position: { line: origin.line, column: origin.column } } : d;
  });
  if (!result.config) throw new InputError(mapped.filter((d) => d.severity === 'error'));
  return { clusterYaml, warnings: mapped.filter((d) => d.severity === 'warning') };
}

/**
 * The cluster.yaml and CA that describe the procedure's cluster, by the phases above. Throws InputError
 * with every problem found (FILE:LINE:COL); warnings come back in the result.
 */
export function importProcedure(files: ProcedureFiles, options: ImportOptions): ImportResult {
  const diagnostics: Diagnostic[] = [];
  const notes: string[] = [];
  const stopOnProblems = (): void => {
    if (diagnostics.length > 0) throw new InputError(diagnostics);
  };
  const confs = parseConfs(files, diagnostics, notes);
  stopOnProblems();
  const fields = sharedFields(confs, diagnostics);
  const { members, badEntries } = clusterMembers(fields.clusterNodes, fields.peerPort, diagnostics);
  checkConfsAgainstMembers(confs, { members, badEntries, clusterNodes: fields.clusterNodes, peerPort: fields.peerPort }, diagnostics, notes);
  // The running cluster's members, when given: it is the truth about membership today.
  if (options.memberList) checkMemberList(options.memberList, members, fields.clientPort, fields.peerPort, diagnostics, notes);
  const caType = checkCa(files, diagnostics);
  const { extraSANs, sharedCerts } = sharedCertificates(files, members, notes);
  stopOnProblems();
  const { clusterYaml, warnings } = validateImported(clusterYamlLines(files, options, { fields, members, caType, extraSANs }), options.configFile);
  notes.push(m.unitNotRead);
  if (sharedCerts.length > 0) notes.push(m.revokeShared(options.configFile, sharedCerts.map((c) => c.file)));
  return { clusterYaml, caCertPem: files.caCert ?? '', caKeyPem: files.caKey ?? '', notes, sharedCerts, warnings };
}

/** `k8s1-etcd1.k8s.lan` -> `k8s1`: the first label without a trailing `-etcd<N>` or `<N>`. */
export function clusterNameFrom(member: string): string {
  const label = member.split('.')[0] ?? '';
  const withoutEtcd = label.replace(/-?etcd-?\d*$/, '');
  const base = withoutEtcd !== label ? withoutEtcd : label.replace(/-?\d+$/, '');
  return /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(base) && base.length <= 40 ? base : 'etcd';
}

function checkMemberList(
  list: { file: string; text: string },
  members: Member[],
  clientPort: number | null,
  peerPort: number | null,
  diagnostics: Diagnostic[],
  notes: string[],
): void {
  const at = { file: list.file, line: 1, column: 1 };
  let live: { name?: unknown; peerURLs?: unknown; clientURLs?: unknown; isLearner?: unknown }[];
  try {
    const parsed = JSON.parse(list.text) as { members?: unknown };
    if (!Array.isArray(parsed.members)) throw new Error('no members');
    live = parsed.members as typeof live;
  } catch {
    diagnostics.push(diag('error', at, '', m.memberListUnreadable));
    return;
  }
  for (const x of live) {
    const name = typeof x.name === 'string' ? x.name : '';
    const peers = Array.isArray(x.peerURLs) ? x.peerURLs.map(String) : [];
    const conf = members.find((c) => c.name === name);
    if (name === '') diagnostics.push(diag('error', at, '', m.liveMemberUnstarted(peers.join(','))));
    else if (!conf) diagnostics.push(diag('error', at, '', m.liveMemberUnknown(name)));
    else if (peerPort !== null && !peers.includes(`https://${conf.host.includes(':') ? `[${conf.host}]` : conf.host}:${peerPort}`)) {
      diagnostics.push(diag('error', at, '', m.livePeerDiffers(name, peers.join(','))));
    }
    if (x.isLearner === true) notes.push(m.liveLearner(name));
    const clients = Array.isArray(x.clientURLs) ? x.clientURLs.map(String) : [];
    if (conf && clientPort !== null && clients.length > 0 && !clients.some((u) => parsePeerUrl(u)?.port === clientPort)) notes.push(m.liveClientDiffers(name, clients.join(',')));
  }
  for (const c of members) if (!live.some((x) => x.name === c.name)) diagnostics.push(diag('error', c.origin, 'CLUSTER_NODES', m.confMemberNotLive(c.name, list.file)));
}

/** Reads the procedure's env directory: every `*.conf`, the CA, the CSR and the shared certificates. */
export async function readProcedureDir(dir: string): Promise<ProcedureFiles> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (err) {
    throw new InputError([diag('error', { file: dir, line: 1, column: 1 }, '', m.envDirUnreadable((err as NodeJS.ErrnoException).code ?? 'error'))]);
  }
  const read = async (n: string): Promise<string | null> => (names.includes(n) ? readFile(path.join(dir, n), 'utf8') : null);
  const confs = new Map<string, string>();
  for (const n of names.filter((x) => x.endsWith('.conf'))) confs.set(path.join(dir, n), (await read(n)) ?? '');
  const sharedCerts = new Map<string, string>();
  for (const n of ['etcd-peer.pem', 'etcd-client.pem']) {
    const text = await read(n);
    if (text !== null) sharedCerts.set(path.join(dir, n), text);
  }
  return { dir, confs, caCert: await read('ca.pem'), caKey: await read('ca-key.pem'), csr: await read('etcd-csr.json'), sharedCerts };
}

/**
 * Writes cluster.yaml and the secrets directory (0700) with the CA as `ca.crt` and `ca.key` (0600, the
 * key's bytes as cfssl wrote them). Refuses when either exists: an import never replaces a CA or a file.
 */
export async function writeImport(result: ImportResult, configFile: string, secretsDir: string): Promise<void> {
  const taken = [configFile, path.join(secretsDir, 'ca.crt'), path.join(secretsDir, 'ca.key'), ...(result.sharedCerts.length > 0 ? [path.join(secretsDir, PROCEDURE_RECORD)] : [])].filter((f) => existsSync(f));
  if (taken.length > 0) {
    throw new InputError(taken.map((f) => diag('error', { file: f, line: 1, column: 1 }, '', m.importWouldReplace)));
  }
  const tx = new FileTransaction();
  tx.write(configFile, result.clusterYaml, 0o644, { exclusive: true });
  tx.write(path.join(secretsDir, 'ca.crt'), result.caCertPem, 0o644, { exclusive: true, dirMode: 0o700 });
  tx.write(path.join(secretsDir, 'ca.key'), result.caKeyPem, 0o600, { exclusive: true, dirMode: 0o700 });
  tx.write(path.join(secretsDir, '.gitignore'), SECRETS_GITIGNORE, 0o644, { dirMode: 0o700 });
  // build --revoke reads it: the shared certificates are revoked only once takeover.sh has moved every member off them.
  if (result.sharedCerts.length > 0) {
    const record: ProcedureRecord = { sharedCertificates: result.sharedCerts };
    tx.write(path.join(secretsDir, PROCEDURE_RECORD), `${JSON.stringify(record, null, 2)}\n`, 0o644, { exclusive: true, dirMode: 0o700 });
  }
  await tx.commit();
}
