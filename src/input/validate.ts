/**
 * Stage 2, validate: the JSON Schema (ajv) and the checks a schema cannot express (uniqueness, address
 * syntax, path shape, validity periods). Takes the loaded document, returns diagnostics; reads only what
 * the package ships (the compiled schema, data/etcd-flags/), through src/resources.ts.
 */
import path from 'node:path';
import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { pointerSegments, toPointer, type Diagnostic } from '../diagnostics.js';
import { locate, type LoadedDocument } from './load.js';
import { closest, messages } from '../messages.js';
import { V2_GUIDE } from '../etcd/upgrade.js';
import { beyondTable, issuesOf, newestKnownOf, newestOfLine, parseRelease, RELEASE_LINES, releaseExists, releaseLine } from '../etcd/releases.js';
import { clusterSchema, etcdFlagKinds, etcdFlagTable } from '../resources.js';
import { ELECTION_HEARTBEATS_MIN, ETCD_DEFAULT_ELECTION_MS, ETCD_DEFAULT_HEARTBEAT_MS, extraFlagRefusal, type EtcdMinor, QUOTA_SUGGESTED_MAX, REQUEST_BYTES_WARN } from '../etcd/flags.js';
import { extraFlagText, flagValueProblem, type ExtraFlagValue } from '../etcd/flag-values.js';
import { shellName } from '../shell.js';
import { AJV_OPTIONS, defineKeywords } from './schema-options.js';
import { DEFAULTS, type ClusterConfig } from './config.js';
import { canonicalIp, ipFamily, isDnsName } from '../net.js';

let validator: ValidateFunction | undefined;
const require = createRequire(import.meta.url);

/** The schema validator: compiled ahead of time by `npm run build` (ajv standalone), else compiled now. */
function schemaValidator(): ValidateFunction {
  if (!validator) {
    try {
      validator = require('../generated/cluster-validator.cjs') as ValidateFunction;
    } catch {
      validator = compileSchemaValidator();
    }
  }
  return validator;
}

/** Compiles the schema with ajv at run time (tests compare it with the ahead-of-time one). */
export function compileSchemaValidator(): ValidateFunction {
  const { Ajv } = require('ajv') as typeof import('ajv');
  const ajv = new Ajv(AJV_OPTIONS);
  defineKeywords(ajv);
  return ajv.compile(clusterSchema());
}

export interface ValidationResult {
  diagnostics: Diagnostic[];
  /** Set when there is no error: the document, typed. */
  config: ClusterConfig | null;
}

export function validateCluster(doc: LoadedDocument): ValidationResult {
  const validate = schemaValidator();
  // A value that is a known slip gets the message that names it, in place of the schema's.
  const diagnostics: Diagnostic[] = slipDiagnostics(doc);
  const slipped = new Set(diagnostics.map((d) => d.pointer));
  if (!validate(doc.data)) {
    for (const err of validate.errors ?? []) {
      const d = schemaDiagnostic(doc, err);
      if (d && !slipped.has(d.pointer)) diagnostics.push(d);
    }
  }
  // One message per field: the slip's or the schema's, when either already refused the value.
  const refused = new Set(diagnostics.map((d) => d.pointer));
  diagnostics.push(...semanticDiagnostics(doc).filter((d) => !refused.has(d.pointer)));
  const unique = dedupe(diagnostics).sort(
    (a, b) => a.position.line - b.position.line || a.position.column - b.position.column || (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1),
  );
  const ok = !unique.some((d) => d.severity === 'error');
  return { diagnostics: unique, config: ok ? (doc.data as ClusterConfig) : null };
}

function dedupe(diagnostics: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = `${d.pointer}\u0000${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'object') return 'mapping';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function schemaDiagnostic(doc: LoadedDocument, err: ErrorObject): Diagnostic | null {
  const at = (pointer: string, message: string, preferKey = false): Diagnostic => ({
    severity: 'error',
    file: doc.file,
    pointer,
    position: locate(doc, pointer, preferKey),
    message,
  });
  const params = err.params as Record<string, unknown>;
  const parent = err.parentSchema as Record<string, unknown> | undefined;
  switch (err.keyword) {
    case 'required':
      return at(err.instancePath, messages.required(String(params.missingProperty)));
    case 'additionalProperties': {
      const field = String(params.additionalProperty);
      const properties = (parent?.properties as Record<string, SchemaNode> | undefined) ?? {};
      const known = Object.keys(properties);
      const suggestion = closest(field, known);
      const homes = suggestion === null ? outdentedHomes(field, err.instancePath, properties, err.data) : [];
      const message = homes.length > 0 ? messages.outdentedField(field, homes) : messages.unknownField(field, suggestion, known);
      return at(`${err.instancePath}${toPointer([field])}`, message, true);
    }
    case 'type': {
      const names = String(params.type)
        .split(',')
        .map((t) => (t === 'object' ? 'mapping' : t === 'array' ? 'list' : t));
      const expected = names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}` : (names[0] ?? '');
      return at(err.instancePath, messages.wrongType(expected, typeName(err.data)));
    }
    case 'enum':
      return at(err.instancePath, messages.notInEnum((params.allowedValues as unknown[]) ?? []));
    case 'minimum':
    case 'maximum':
      return at(err.instancePath, messages.outOfRange(parent?.minimum as number | undefined, parent?.maximum as number | undefined));
    case 'minItems':
      return at(err.instancePath, messages.tooShort(Number(params.limit), 'entry'));
    case 'maxItems':
      return at(err.instancePath, messages.tooLong(Number(params.limit), 'entries'));
    case 'minLength':
      return at(err.instancePath, messages.tooShort(Number(params.limit), 'characters'));
    case 'maxLength':
      return at(err.instancePath, messages.tooLong(Number(params.limit), 'characters'));
    case 'pattern':
      return at(err.instancePath, messages.badPattern(String(parent?.['x-fix'] ?? `must match ${String(params.pattern)}`)));
    case 'uniqueItems':
      return at(`${err.instancePath}/${String(params.i)}`, messages.duplicateItem);
    default:
      return at(err.instancePath, `${err.message ?? 'invalid value'}`);
  }
}

interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
}

/**
 * Where an unknown key belongs when it is a field of one of this mapping's own fields: the slip of a key
 * indented less than its parent's other fields, so that it lands one level up (`etcd:` then `version:`
 * at the margin). Dotted paths as `explain` takes them (`etcd.version`, `nodes[].ip`); the fields left
 * empty (null) come first, as an outdent leaves its parent.
 */
function outdentedHomes(field: string, instancePath: string, properties: Record<string, SchemaNode>, data: unknown): string[] {
  const prefix = pointerSegments(instancePath).map((s) => (/^\d+$/.test(s) ? '[]' : `.${s}`)).join('').replace(/^\./, '').replace(/\.\[\]/g, '[]');
  const homes: { path: string; empty: boolean }[] = [];
  for (const [name, child] of Object.entries(properties)) {
    const list = child.type === 'array';
    const target = list ? child.items : child;
    if (!target?.properties || !(field in target.properties)) continue;
    const value = isObject(data) ? data[name] : undefined;
    homes.push({ path: `${prefix ? `${prefix}.` : ''}${name}${list ? '[]' : ''}.${field}`, empty: value === null });
  }
  const empty = homes.filter((h) => h.empty);
  return (empty.length > 0 ? empty : homes).map((h) => h.path);
}

/** Addresses and versions written the way another tool or page writes them, each with its fix. */
function slipDiagnostics(doc: LoadedDocument): Diagnostic[] {
  const out: Diagnostic[] = [];
  const check = (pointer: string, value: unknown, slip: (v: string) => string | null): void => {
    if (typeof value !== 'string') return;
    const message = slip(value);
    if (message !== null) out.push({ severity: 'error', file: doc.file, pointer, position: locate(doc, pointer), message });
  };
  const data = doc.data;
  if (!isObject(data)) return out;
  if (isObject(data.etcd)) check('/etcd/version', data.etcd.version, versionSlip);
  if (Array.isArray(data.nodes)) {
    data.nodes.forEach((node, i) => {
      if (!isObject(node)) return;
      check(`/nodes/${i}/host`, node.host, addressSlip);
      check(`/nodes/${i}/ip`, node.ip, addressSlip);
      if (Array.isArray(node.extraSANs)) node.extraSANs.forEach((san, j) => check(`/nodes/${i}/extraSANs/${j}`, san, addressSlip));
    });
  }
  if (isObject(data.tls) && Array.isArray(data.tls.extraSANs)) data.tls.extraSANs.forEach((san, j) => check(`/tls/extraSANs/${j}`, san, addressSlip));
  return out;
}

// ---- checks a schema cannot express ----------------------------------------------------------------

/**
 * The slip behind an address written as another tool or page writes it: a URL, brackets, a port, a
 * trailing dot, zero-padded IPv4. Returns the message that names the slip and the fix, or null.
 */
export function addressSlip(value: string): string | null {
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(value)) {
    let host = '';
    try {
      host = new URL(value).hostname.replace(/^\[(.*)\]$/, '$1');
    } catch {
      host = value.replace(/^[^/]*:\/\//, '').split(/[/:]/)[0] ?? '';
    }
    return messages.addressIsUrl(value, host || 'the host alone');
  }
  const bracketed = /^\[([^\]]*)\](:\d+)?$/.exec(value);
  if (bracketed) return messages.addressInBrackets(value, bracketed[1] ?? '');
  const withPort = /^([^:]+):\d+$/.exec(value);
  if (withPort && (ipFamily(withPort[1] ?? '') === 4 || isDnsName((withPort[1] ?? '').toLowerCase()))) return messages.addressWithPort(value, withPort[1] ?? '');
  if (value.length > 1 && value.endsWith('.') && isDnsName(value.slice(0, -1).toLowerCase())) return messages.addressTrailingDot(value, value.slice(0, -1).toLowerCase());
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(value) && ipFamily(value) === 0) {
    const unpadded = value.split('.').map((n) => String(Number(n))).join('.');
    if (ipFamily(unpadded) === 4) return messages.addressZeroPadded(value, unpadded);
  }
  return null;
}

/** Slips in the etcd version: a leading v, as release pages write it. */
function versionSlip(value: string): string | null {
  const v = /^[vV](3\.\d+\.\d+)$/.exec(value);
  return v ? messages.versionWithV(value, v[1] ?? '') : null;
}

/** Trees the etcd unit's sandbox makes unusable, and which setting does it. */
const SANDBOX_HIDDEN: Readonly<Record<string, string>> = {
  '/home': 'makes inaccessible (ProtectHome=yes)',
  '/root': 'makes inaccessible (ProtectHome=yes)',
  '/run/user': 'makes inaccessible (ProtectHome=yes)',
  '/tmp': 'replaces with an empty private directory (PrivateTmp=yes)',
  '/var/tmp': 'replaces with an empty private directory (PrivateTmp=yes)',
  '/dev': 'replaces with a minimal private /dev (PrivateDevices=yes)',
  '/proc': 'mounts the kernel file system on',
  '/sys': 'mounts the kernel file system on',
};

/** Directories two levels deep that other software shares: the deploy steps must not chown them to etcd. */
const SHARED_DIRS: ReadonlySet<string> = new Set([
  '/etc/default', '/etc/kubernetes', '/etc/pki', '/etc/ssl', '/etc/systemd',
  '/usr/bin', '/usr/include', '/usr/lib', '/usr/lib64', '/usr/libexec', '/usr/local', '/usr/sbin', '/usr/share', '/usr/src',
  '/var/backups', '/var/cache', '/var/lib', '/var/local', '/var/lock', '/var/log', '/var/mail', '/var/opt', '/var/run', '/var/spool',
]);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** A value the schema lets into etcd.extraFlags (anything else has the schema's message already). */
const isFlagValue = (v: unknown): v is ExtraFlagValue => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

function semanticDiagnostics(doc: LoadedDocument): Diagnostic[] {
  const out: Diagnostic[] = [];
  const error = (pointer: string, message: string): void => {
    out.push({ severity: 'error', file: doc.file, pointer, position: locate(doc, pointer), message });
  };
  const warn = (pointer: string, message: string): void => {
    out.push({ severity: 'warning', file: doc.file, pointer, position: locate(doc, pointer), message });
  };
  const data = doc.data;
  if (!isObject(data)) return out;

  // Extra certificate names (tls.extraSANs, nodes[].extraSANs): DNS names or IPs, each address once in
  // whatever spelling. Wildcards only where the schema allows them (tls.extraSANs).
  const checkSans = (pointer: string, sans: unknown): void => {
    if (!Array.isArray(sans)) return;
    const seen = new Map<string, number>();
    sans.forEach((san, i) => {
      if (typeof san !== 'string') return;
      const at = `${pointer}/${i}`;
      const name = san.startsWith('*.') ? san.slice(2) : san;
      let key: string | null = null;
      if (san.includes('%')) error(at, messages.zonedIp);
      else if (ipFamily(san)) {
        key = canonicalIp(san);
        if (key === '0.0.0.0' || key === '::') error(at, messages.unspecifiedIp);
      } else if (isDnsName(name.toLowerCase()) && name !== name.toLowerCase()) error(at, messages.upperCaseHost(san));
      else if (!isDnsName(name)) error(at, messages.badSan(san));
      else key = san;
      if (key === null) return;
      const first = seen.get(key);
      if (first !== undefined) error(at, messages.duplicateSan(san, key, locate(doc, `${pointer}/${first}`).line));
      else seen.set(key, i);
    });
  };

  // Members: names, hosts and IPs.
  const nodes = Array.isArray(data.nodes) ? data.nodes : [];
  const names = new Map<string, string>();
  // Shell functions and variables are named after members with '-' and '.' as '_' (src/shell.ts):
  // two names that only differ there would share one.
  const shellNames = new Map<string, string>();
  const addresses = new Map<string, string>();
  const claim = (pointer: string, address: string): void => {
    const first = addresses.get(address);
    if (first !== undefined) error(pointer, messages.duplicateAddress(address, locate(doc, first).line));
    else addresses.set(address, pointer);
  };
  nodes.forEach((node, i) => {
    if (!isObject(node)) return;
    const base = toPointer(['nodes', i]);
    if (typeof node.name === 'string') {
      const first = names.get(node.name);
      if (first !== undefined) error(`${base}/name`, messages.duplicateNodeName(node.name, locate(doc, first).line));
      else {
        names.set(node.name, `${base}/name`);
        const shell = shellName('', node.name);
        const clash = shellNames.get(shell);
        if (clash !== undefined) error(`${base}/name`, messages.shellNameClash(node.name, locate(doc, clash).line, shell));
        else shellNames.set(shell, `${base}/name`);
      }
    }
    let hostIp: string | null = null;
    if (typeof node.host === 'string') {
      const host = node.host;
      if (host.includes('%')) error(`${base}/host`, messages.zonedIp);
      else if (ipFamily(host)) {
        hostIp = canonicalIp(host);
        if (hostIp === '0.0.0.0' || hostIp === '::') error(`${base}/host`, messages.unspecifiedIp);
        claim(`${base}/host`, hostIp);
      } else if (isDnsName(host.toLowerCase()) && host !== host.toLowerCase()) error(`${base}/host`, messages.upperCaseHost(host));
      else if (!isDnsName(host)) error(`${base}/host`, messages.badHost(host));
      else {
        claim(`${base}/host`, host);
        if (node.ip === undefined) warn(`${base}/host`, messages.listensOnAllInterfaces(host));
      }
    }
    if (typeof node.ip === 'string') {
      const ip = node.ip;
      if (ip.includes('%')) error(`${base}/ip`, messages.zonedIp);
      else if (!ipFamily(ip)) error(`${base}/ip`, messages.badIp(ip));
      else {
        const canonical = canonicalIp(ip);
        if (canonical === '0.0.0.0' || canonical === '::') error(`${base}/ip`, messages.unspecifiedIp);
        else if (hostIp !== null) {
          if (hostIp !== canonical) error(`${base}/ip`, messages.hostIpMismatch(String(node.host), ip));
        } else claim(`${base}/ip`, canonical);
      }
    }
    // A member's other addresses may repeat across members (several members behind one NAT address).
    checkSans(`${base}/extraSANs`, node.extraSANs);
  });
  const count = nodes.length;
  if (count === 1) warn('/nodes', messages.singleMember);
  else if (count > 0 && count % 2 === 0) warn('/nodes', messages.evenMembers(count));
  if (count > 7) warn('/nodes', messages.manyMembers(count));

  // Ports: one listener each.
  const ports = isObject(data.ports) ? data.ports : {};
  const port = (name: keyof typeof DEFAULTS.ports): number => (typeof ports[name] === 'number' ? ports[name] : DEFAULTS.ports[name]);
  const portNames = Object.keys(DEFAULTS.ports) as (keyof typeof DEFAULTS.ports)[];
  portNames.forEach((a, i) => {
    for (const b of portNames.slice(i + 1)) {
      if (port(a) === port(b)) error(ports[b] !== undefined ? `/ports/${b}` : `/ports/${a}`, messages.samePorts(a, b, port(a)));
    }
  });

  // Paths: normalized, not /, data apart from etc.
  const checkPath = (pointer: string, value: unknown): string | null => {
    if (typeof value !== 'string' || !value.startsWith('/')) return null;
    const normal = path.posix.normalize(value).replace(/(.)\/$/, '$1');
    if (normal !== value) {
      error(pointer, messages.pathNotNormal(value, normal));
      return null;
    }
    if (value === '/') {
      error(pointer, messages.pathRoot);
      return null;
    }
    return value;
  };
  const paths = isObject(data.paths) ? data.paths : {};
  // The unit's sandbox hides some trees from etcd, and the deploy steps chown and chmod etc and data:
  // neither may be a directory other software shares.
  const checkMemberPath = (pointer: string, value: unknown, ownedByEtcd: boolean): string | null => {
    const p = checkPath(pointer, value);
    if (p === null) return null;
    const hidden = Object.keys(SANDBOX_HIDDEN).find((dir) => p === dir || p.startsWith(`${dir}/`));
    if (hidden !== undefined) error(pointer, messages.pathHiddenBySandbox(p, hidden, SANDBOX_HIDDEN[hidden] ?? ''));
    else if (ownedByEtcd && (p.split('/').length < 3 || SHARED_DIRS.has(p))) error(pointer, messages.pathShared(p));
    else return p;
    return null;
  };
  const etc = checkMemberPath('/paths/etc', paths.etc, true) ?? (paths.etc === undefined ? DEFAULTS.paths.etc : null);
  const dataDir = checkMemberPath('/paths/data', paths.data, true) ?? (paths.data === undefined ? DEFAULTS.paths.data : null);
  checkMemberPath('/paths/bin', paths.bin, false);
  if (isObject(data.kubernetes)) checkPath('/kubernetes/pkiDir', data.kubernetes.pkiDir);
  if (etc && dataDir && (etc === dataDir || etc.startsWith(`${dataDir}/`) || dataDir.startsWith(`${etc}/`))) {
    error(paths.data !== undefined ? '/paths/data' : '/paths/etc', messages.pathsOverlap('data', 'etc'));
  }

  // TLS validity and names.
  const tls = isObject(data.tls) ? data.tls : {};
  const caDays = typeof tls.caDays === 'number' ? tls.caDays : DEFAULTS.tls.caDays;
  const certDays = typeof tls.certDays === 'number' ? tls.certDays : DEFAULTS.tls.certDays;
  const renew = typeof tls.renewBeforeDays === 'number' ? tls.renewBeforeDays : DEFAULTS.tls.renewBeforeDays;
  if (certDays > caDays) error(tls.certDays !== undefined ? '/tls/certDays' : '/tls/caDays', messages.certOutlivesCa(certDays, caDays));
  if (renew >= certDays) error(tls.renewBeforeDays !== undefined ? '/tls/renewBeforeDays' : '/tls/certDays', messages.renewAfterExpiry(renew, certDays));
  checkSans('/tls/extraSANs', tls.extraSANs);

  // Versions: releases of known lines; a patch newer than the table with a warning (checked as the newest
  // known patch of its line); warnings for end-of-life lines and releases with known defects.
  const asked = isObject(data.etcd) && typeof data.etcd.version === 'string' ? parseRelease(data.etcd.version) : null;
  const line = asked ? releaseLine(asked.minor) : undefined;
  if (asked && line && beyondTable(asked)) warn('/etcd/version', messages.newerPatchThanTable(`3.${asked.minor}.${asked.patch}`, newestOfLine(line)));
  const version = asked ? newestKnownOf(asked) : null;
  if (version && line) {
    if (!releaseExists(version)) error('/etcd/version', messages.unknownRelease(`3.${version.minor}.${version.patch}`, newestOfLine(line)));
    else {
      if (line.endOfLife !== null) warn('/etcd/version', messages.endOfLifeLine(line.endOfLife, newestOfLine(RELEASE_LINES[RELEASE_LINES.length - 1] ?? line)));
      for (const issue of issuesOf(version)) warn('/etcd/version', messages.knownIssue(`3.${version.minor}.${version.patch}`, issue.problem, issue.fixedIn, newestOfLine(line), issue.source));
    }
  }

  // etcd.tuning: the checks etcd makes at start (election timeout against the heartbeat), and sizes etcd's
  // docs advise against. etcd.extraFlags: flags of this release only, none that etcd-gen owns.
  const etcd = isObject(data.etcd) ? data.etcd : {};
  const tuning = isObject(etcd.tuning) ? etcd.tuning : {};
  const num = (v: unknown): number | null => (typeof v === 'number' && Number.isInteger(v) ? v : null);
  const heartbeat = num(tuning.heartbeatIntervalMs) ?? ETCD_DEFAULT_HEARTBEAT_MS;
  const election = num(tuning.electionTimeoutMs) ?? ETCD_DEFAULT_ELECTION_MS;
  if (election < ELECTION_HEARTBEATS_MIN * heartbeat) {
    error(tuning.electionTimeoutMs !== undefined ? '/etcd/tuning/electionTimeoutMs' : '/etcd/tuning/heartbeatIntervalMs', messages.electionTooShort(election, heartbeat, ELECTION_HEARTBEATS_MIN));
  }
  const quota = num(tuning.quotaBackendBytes);
  if (quota !== null && quota > QUOTA_SUGGESTED_MAX) warn('/etcd/tuning/quotaBackendBytes', messages.quotaAboveSuggested(quota, QUOTA_SUGGESTED_MAX));
  const request = num(tuning.maxRequestBytes);
  if (request !== null && request > REQUEST_BYTES_WARN) warn('/etcd/tuning/maxRequestBytes', messages.requestAboveSuggested(request, REQUEST_BYTES_WARN));
  if (isObject(etcd.extraFlags) && version && releaseExists(version)) {
    const table = etcdFlagTable(version.minor);
    const kinds = etcdFlagKinds(version.minor);
    for (const flag of Object.keys(etcd.extraFlags)) {
      // A name the schema refused already has its message.
      if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(flag)) continue;
      const at = `/etcd/extraFlags${toPointer([flag])}`;
      const since = table.get(flag);
      const release = `3.${version.minor}.${version.patch}`;
      // 3.6 renamed the experimental flags it kept (3.7 has only the new names).
      const renamed = flag.startsWith('experimental-') && table.has(flag.slice('experimental-'.length)) ? flag.slice('experimental-'.length) : null;
      if (since === undefined) error(at, messages.unknownEtcdFlag(flag, release, renamed ?? closest(flag, [...table.keys()])));
      else if (renamed !== null && version.minor >= 6 && extraFlagRefusal(flag, { minor: version.minor as EtcdMinor, patch: version.patch }) === null) {
        warn(at, messages.experimentalFlagRenamed(flag, release, renamed));
      }
      if (since !== undefined && since > version.patch) error(at, messages.etcdFlagTooNew(flag, release, `3.${version.minor}.${since}`));
      else if (since !== undefined) {
        const refusal = extraFlagRefusal(flag, { minor: version.minor as EtcdMinor, patch: version.patch });
        if (refusal !== null) error(at, messages.ownedEtcdFlag(flag, refusal));
        else {
          // A value etcd cannot parse stops every member at start: refused here, as etcd would read it.
          const value = etcd.extraFlags[flag];
          const kind = kinds.get(flag) ?? 'string';
          if (isFlagValue(value)) {
            const text = extraFlagText(value);
            const problem = kind === 'string' ? null : flagValueProblem(kind, value);
            // etcd skips an empty ETCD_* variable (pkg/flags SetFlagsFromEnv): the flag keeps its default.
            if (text === '') warn(at, messages.emptyEtcdFlag(flag));
            // etcd-gen never writes it: the 3.6 upgrade guide's own-risk way past custom v2 content.
            else if (flag === 'v2-deprecation' && text === 'write-only-skip-check') warn(at, messages.v2SkipCheck(V2_GUIDE));
            else if (kinds.size === 0) warn(at, messages.etcdFlagValueUnchecked(flag, release));
            else if (problem !== null && kind !== 'string') error(at, messages.etcdFlagValue(flag, release, text, kind, problem));
          }
        }
      }
    }
  }

  // How user-data installs etcd.
  const install = isObject(data.etcd) && isObject(data.etcd.install) ? data.etcd.install : null;
  if (install && typeof install.from === 'string') {
    if (install.from === 'tarball' && install.sha256 === undefined) error('/etcd/install', messages.tarballNeedsSha256);
    if (install.from !== 'tarball') {
      for (const field of ['sha256', 'url'] as const) {
        if (install[field] !== undefined) error(`/etcd/install/${field}`, messages.onlyForTarball(field, install.from));
      }
    }
    const bin = typeof paths.bin === 'string' ? paths.bin : DEFAULTS.paths.bin;
    if (install.from === 'package' && bin !== '/usr/bin') error(paths.bin !== undefined ? '/paths/bin' : '/etcd/install/from', messages.packageNeedsUsrBin(bin));
  }
  return out;
}
