/**
 * Stage 7, render: the model and the PKI into the output tree, as a list of files in memory. Pure apart
 * from reading the templates once. Handlebars renders text here, not HTML: an isolated instance with
 * noEscape, strict and knownHelpersOnly; every value that reaches a shell goes through the `q` helper.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type Handlebars from 'handlebars';
import type { CertPair } from '../pki/index.js';
import { ADMIN_ID, APISERVER_ID, BACKUP_ID, MONITORING_ID, peerId, serverId } from '../pki/profiles.js';
import { EXPECTED_FILE, expectedCluster, expectedText } from './expected.js';
import { grafanaDashboard } from './grafana.js';
import { shellQuote } from '../shell.js';
import { readTemplates } from '../resources.js';
import { COMPILE_OPTIONS } from './template-options.js';
import type { ClusterModel, FileRole, MemberContent, MemberModel } from '../model/types.js';
import type { OutputFile } from '../output/files.js';
import { userDataFiles, userDataRuncmd } from './user-data.js';

type Renderer = (context: object) => string;
type TemplateSpecification = Parameters<typeof Handlebars.template>[0];

const require = createRequire(import.meta.url);

/** Registers etcd-gen's two helpers on a Handlebars instance (full or runtime-only) and drops the rest. */
function prepare<T extends typeof Handlebars>(hb: T): T {
  hb.unregisterHelper('lookup');
  hb.unregisterHelper('log');
  hb.registerHelper('q', (...args: unknown[]) => {
    const value = args.length === 2 ? args[0] : undefined;
    if (typeof value !== 'string' && typeof value !== 'number') {
      throw new Error(`template helper q takes one string or number, got ${args.length === 2 ? typeof value : `${args.length - 1} arguments`}`);
    }
    return shellQuote(String(value));
  });
  hb.registerHelper('json', (...args: unknown[]) => {
    const value = args.length === 2 ? args[0] : undefined;
    if (!['string', 'number', 'boolean'].includes(typeof value)) throw new Error('template helper json takes one scalar');
    return JSON.stringify(value);
  });
  return hb;
}

/** A file of templates/ without the .hbs suffix is shipped as it is: its renderer gives its text, byte for byte. */
const isTemplate = (name: string): boolean => name.endsWith('.hbs');
const plain = (text: string): Renderer => () => text;

/**
 * Compiles the sources of templates/ (`.hbs`: Handlebars; any other file: plain, copied as is) with the
 * full Handlebars (tests, and builds without precompiled templates).
 */
export function compileTemplates(sources: ReadonlyMap<string, string>): Map<string, Renderer> {
  const hb = prepare((require('handlebars') as typeof Handlebars).create());
  const compiled = new Map<string, Renderer>();
  for (const [name, source] of sources) {
    if (!isTemplate(name)) {
      compiled.set(name, plain(source));
      continue;
    }
    const template = hb.compile(source, COMPILE_OPTIONS);
    compiled.set(name, (context) => template(context));
  }
  return compiled;
}

/**
 * The templates as a build uses them: precompiled by `npm run build` (scripts/precompile.ts) and run with
 * the Handlebars runtime alone; compiled from templates/ when the precompiled set is missing. Plain files
 * of templates/ are read as they are.
 */
export function loadTemplates(): Map<string, Renderer> {
  let specs: Record<string, TemplateSpecification>;
  try {
    specs = require('../generated/templates.cjs') as Record<string, TemplateSpecification>;
  } catch {
    return compileTemplates(readTemplates());
  }
  const hb = prepare((require('handlebars/runtime') as { default: typeof Handlebars }).default.create());
  const loaded = new Map<string, Renderer>(
    Object.entries(specs).map(([name, spec]) => {
      const template = hb.template(spec);
      return [name, (context: object) => template(context)] as const;
    }),
  );
  for (const [name, text] of readTemplates()) if (!isTemplate(name)) loaded.set(name, plain(text));
  return loaded;
}

/**
 * The runbooks in out/runbooks/. cluster.sh (the cluster's facts, from templates/runbooks/cluster.sh.hbs)
 * and lib.sh (what they share) are sourced, never run; every file but cluster.sh is the same for every
 * cluster (templates/runbooks/, copied byte for byte).
 */
export const RUNBOOKS = [
  'cluster.sh',
  'lib.sh',
  'health.sh',
  'snapshot.sh',
  'restore.sh',
  'defrag.sh',
  'add-member.sh',
  'replace-member.sh',
  'remove-member.sh',
  'rotate-certs.sh',
  'takeover.sh',
  'upgrade.sh',
] as const;

function pair(pairs: ReadonlyMap<string, CertPair>, id: string): CertPair {
  const p = pairs.get(id);
  if (!p) throw new Error(`no certificate ${id}`);
  return p;
}

/** Path inside a member's overlay for an absolute path on the member. */
function overlay(member: MemberModel, absolute: string): string {
  return path.posix.join(member.overlayDir, absolute.slice(1));
}

export function renderOutput(
  model: ClusterModel,
  pairs: ReadonlyMap<string, CertPair>,
  trustBundle: string,
  templates: ReadonlyMap<string, Renderer>,
  /** The CA's CRL as DER in base64, when the model has one (model.install). */
  crlBase64: string | null = null,
): OutputFile[] {
  const render = (name: string, context: object): string => {
    const t = templates.get(name);
    if (!t) throw new Error(`missing template ${name}`);
    return t(context);
  };
  const files: OutputFile[] = [];
  // A key file holds a private key by its role; user-data says so itself (it embeds its member's keys).
  const holdsKey = (role: FileRole) => (role === 'private-key' ? { holdsPrivateKey: true as const } : {});
  const text = (p: string, contents: string, role: FileRole, mode = 0o644): void => {
    files.push({ path: p, contents, mode, role, ...holdsKey(role) });
  };
  const cert = (p: string, id: string): void => text(p, pair(pairs, id).certPem, 'certificate');
  // Wherever the CA certificate goes, every CA to trust goes: more than one during a CA rotation.
  const trust = (p: string): void => text(p, trustBundle, 'certificate');
  const key = (p: string, id: string): void => text(p, pair(pairs, id).keyPem, 'private-key', 0o600);

  const certificates = [...pairs.values()].map((p) => ({
    id: p.spec.id,
    purpose: p.spec.purpose,
    commonName: p.spec.commonName,
    names: [...p.spec.dnsNames, ...p.spec.ipAddresses].join(', ') || '-',
    notAfter: p.notAfter.toISOString().slice(0, 10),
  }));
  // Mermaid edges between every pair of members, each pair once.
  const peerLinks = model.members.flatMap((a, i) => model.members.slice(i + 1).map((b) => ({ from: a.diagramId, to: b.diagramId })));
  text('README.md', render('README.md.hbs', { ...model, certificates, peerLinks }), 'readme');
  text('.gitignore', render('gitignore.hbs', model), 'gitignore');
  // What the running cluster should serve, for etcd-gen status: a JSON file, so its notice is a field of it.
  text(EXPECTED_FILE, expectedText(expectedCluster(model, pairs, trustBundle)), 'expected-state');

  for (const member of model.members) {
    const context = { ...model, member };
    const contents: Record<MemberContent, () => string> = {
      config: () => render('etcd.conf.hbs', context),
      unit: () => render('etcd.service.hbs', context),
      guard: () => render('bootstrap-guard.sh.hbs', context),
      'ca-cert': () => trustBundle,
      'server-cert': () => pair(pairs, serverId(member.name)).certPem,
      'server-key': () => pair(pairs, serverId(member.name)).keyPem,
      'peer-cert': () => pair(pairs, peerId(member.name)).certPem,
      'peer-key': () => pair(pairs, peerId(member.name)).keyPem,
      crl: () => {
        if (crlBase64 === null) throw new Error('the model installs a CRL but there is none');
        return crlBase64;
      },
    };
    const memberFiles = model.install.files.map((file) => ({ file, contents: contents[file.content]() }));
    for (const { file: f, contents: c } of memberFiles) {
      files.push({
        path: overlay(member, f.path),
        contents: c,
        mode: f.mode,
        owner: `${f.user}:${f.group}`,
        role: f.role,
        ...holdsKey(f.role),
        ...(f.content === 'crl' ? { encoding: 'base64' as const } : {}),
      });
    }
    // user-data carries the whole overlay, keys included: mode 0600, and sealed like a key.
    const userData = { files: userDataFiles(memberFiles), runcmd: userDataRuncmd(model.cloudInit.steps), packages: model.cloudInit.packages };
    const embedsKey = model.install.files.some((f) => f.role === 'private-key');
    files.push({
      path: member.userDataPath,
      contents: render('user-data.yaml.hbs', { ...context, userData }),
      mode: 0o600,
      role: 'cloud-init',
      ...(embedsKey ? { holdsPrivateKey: true as const } : {}),
    });
  }

  text('admin/aliases.sh', render('aliases.sh.hbs', model), 'admin-shell');
  text('admin/etcdctl.env', render('etcdctl.env.hbs', model), 'admin-shell');
  trust('admin/pki/ca.crt');
  cert('admin/pki/admin.crt', ADMIN_ID);
  key('admin/pki/admin.key', ADMIN_ID);

  for (const runbook of RUNBOOKS) {
    const sourced = runbook === 'lib.sh' || runbook === 'cluster.sh';
    const template = runbook === 'cluster.sh' ? `runbooks/${runbook}.hbs` : `runbooks/${runbook}`;
    text(`runbooks/${runbook}`, render(template, model), 'runbook', sourced ? 0o644 : 0o755);
  }

  if (model.backup) {
    const b = model.backup;
    const at = (absolute: string): string => path.posix.join(b.overlayDir, absolute.slice(1));
    text(at(b.script), render('backup/etcd-backup.sh.hbs', model), 'backup', 0o755);
    text(at(b.serviceFile), render('backup/etcd-backup.service.hbs', model), 'backup');
    text(at(b.timerFile), render('backup/etcd-backup.timer.hbs', model), 'backup');
    trust(at(`${b.pkiDir}/ca.crt`));
    cert(at(`${b.pkiDir}/backup.crt`), BACKUP_ID);
    key(at(`${b.pkiDir}/backup.key`), BACKUP_ID);
  }
  if (model.monitoring) {
    // Prometheus reads paths in its configuration relative to the file: monitoring/ is deployed as one.
    text('monitoring/prometheus.yml', render('monitoring/prometheus.yml.hbs', model), 'monitoring');
    text('monitoring/etcd-alerts.yml', render('monitoring/etcd-alerts.yml.hbs', model), 'monitoring');
    text('monitoring/grafana-dashboard.json', grafanaDashboard({ ...model, monitoring: model.monitoring }, model.notice), 'monitoring');
    trust('monitoring/pki/ca.crt');
    cert('monitoring/pki/monitoring.crt', MONITORING_ID);
    key('monitoring/pki/monitoring.key', MONITORING_ID);
  }

  text('kubernetes/external-etcd.yaml', render('external-etcd.yaml.hbs', model), 'kubeadm-config');
  // An overlay of a control-plane node, at kubeadm's names for an external etcd: the etcd CA goes into
  // pki/etcd/, never over the cluster's own pki/ca.crt.
  const k8s = model.kubernetes;
  trust(path.posix.join(k8s.overlayDir, k8s.caFile.slice(1)));
  cert(path.posix.join(k8s.overlayDir, k8s.certFile.slice(1)), APISERVER_ID);
  key(path.posix.join(k8s.overlayDir, k8s.keyFile.slice(1)), APISERVER_ID);

  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
