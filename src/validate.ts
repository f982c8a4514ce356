/**
 * Stage 2, validate: the JSON Schema (ajv) and the checks a schema cannot express (uniqueness, address
 * syntax, path shape, validity periods). Pure: takes the loaded document, returns diagnostics.
 */
import { isIP } from 'node:net';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { toPointer, type Diagnostic } from './diagnostics.js';
import { locate, type LoadedDocument } from './load.js';
import { closest, messages } from './messages.js';
import { clusterSchema } from './resources.js';
import { shellName } from './shell.js';
import { AJV_OPTIONS, defineKeywords } from './schema-options.js';
import { DEFAULTS, type ClusterConfig } from './config.js';

let validator: ValidateFunction | undefined;
const require = createRequire(import.meta.url);

/** The schema validator: compiled ahead of time by `npm run build` (ajv standalone), else compiled now. */
function schemaValidator(): ValidateFunction {
  if (!validator) {
    try {
      validator = require('./generated/cluster-validator.cjs') as ValidateFunction;
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
  const diagnostics: Diagnostic[] = [];
  if (!validate(doc.data)) {
    for (const err of validate.errors ?? []) {
      const d = schemaDiagnostic(doc, err);
      if (d) diagnostics.push(d);
    }
  }
  // One message per field: the schema's, when it already refused the value.
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
      const known = Object.keys((parent?.properties as Record<string, unknown> | undefined) ?? {});
      return at(`${err.instancePath}${toPointer([field])}`, messages.unknownField(field, closest(field, known), known), true);
    }
    case 'type': {
      const expected = String(params.type) === 'object' ? 'mapping' : String(params.type) === 'array' ? 'list' : String(params.type);
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

// ---- checks a schema cannot express ----------------------------------------------------------------

const DNS_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** A DNS name in lower case; names with an all-digit last label are taken for mistyped IPs. */
export function isDnsName(value: string): boolean {
  if (!DNS_NAME.test(value)) return false;
  const last = value.split('.').pop() ?? '';
  return !/^\d+$/.test(last);
}

/** The IP family (4 or 6) of a string, 0 when it is not an IP. */
export function ipFamily(value: string): 0 | 4 | 6 {
  return isIP(value) as 0 | 4 | 6;
}

/** The canonical text of an IP address, so that fd00::0011 and fd00::11 compare equal. */
export function canonicalIp(value: string): string {
  if (ipFamily(value) !== 6) return value;
  return new URL(`http://[${value}]/`).hostname.slice(1, -1);
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
  if (Array.isArray(tls.extraSANs)) {
    tls.extraSANs.forEach((san, i) => {
      if (typeof san !== 'string') return;
      const name = san.startsWith('*.') ? san.slice(2) : san;
      if (san.includes('%')) error(`/tls/extraSANs/${i}`, messages.zonedIp);
      else if (ipFamily(san)) return;
      else if (isDnsName(name.toLowerCase()) && name !== name.toLowerCase()) error(`/tls/extraSANs/${i}`, messages.upperCaseHost(san));
      else if (!isDnsName(name)) error(`/tls/extraSANs/${i}`, messages.badSan(san));
    });
  }

  // Versions.
  if (isObject(data.etcd) && typeof data.etcd.version === 'string' && /^3\.4\.\d+$/.test(data.etcd.version)) {
    warn('/etcd/version', messages.endOfLife34);
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
