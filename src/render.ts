/**
 * Stage 5, render: the model and the PKI into the output tree, as a list of files in memory. Pure apart
 * from reading the templates once. Handlebars renders text here, not HTML: an isolated instance with
 * noEscape, strict and knownHelpersOnly; every value that reaches a shell goes through the `q` helper.
 */
import Handlebars from 'handlebars';
import path from 'node:path';
import type { ClusterModel, FileRole, MemberContent, MemberModel } from './model.js';
import type { CertPair } from './pki/index.js';
import { ADMIN_ID, APISERVER_ID, CA_ID, peerId, serverId } from './pki/profiles.js';
import { shellQuote } from './shell.js';

export type { FileRole } from './model.js';

export interface OutputFile {
  /** Path relative to the output directory, with '/' separators. */
  path: string;
  contents: string;
  mode: number;
  /** `user:group` the file must have where it is installed (member files only). */
  owner?: string;
  role: FileRole;
}

const COMPILE_OPTIONS = {
  noEscape: true,
  strict: true,
  knownHelpersOnly: true,
  // Built-ins beyond each/if/unless/with are switched off: templates hold layout, not lookups.
  knownHelpers: { q: true, json: true, lookup: false, log: false },
} as const;

type Renderer = (context: object) => string;

/** Compiles the templates with etcd-gen's own Handlebars instance. */
export function compileTemplates(sources: ReadonlyMap<string, string>): Map<string, Renderer> {
  const hb = Handlebars.create();
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
  const compiled = new Map<string, Renderer>();
  for (const [name, source] of sources) {
    const template = hb.compile(source, COMPILE_OPTIONS);
    compiled.set(name, (context) => template(context));
  }
  return compiled;
}

function pair(pairs: ReadonlyMap<string, CertPair>, id: string): CertPair {
  const p = pairs.get(id);
  if (!p) throw new Error(`no certificate ${id}`);
  return p;
}

/** Path inside a member's overlay for an absolute path on the member. */
function overlay(member: MemberModel, absolute: string): string {
  return path.posix.join(member.overlayDir, absolute.slice(1));
}

export function renderOutput(model: ClusterModel, pairs: ReadonlyMap<string, CertPair>, templates: ReadonlyMap<string, Renderer>): OutputFile[] {
  const render = (name: string, context: object): string => {
    const t = templates.get(name);
    if (!t) throw new Error(`missing template ${name}`);
    return t(context);
  };
  const files: OutputFile[] = [];
  const text = (p: string, contents: string, role: FileRole, mode = 0o644): void => {
    files.push({ path: p, contents, mode, role });
  };
  const cert = (p: string, id: string): void => text(p, pair(pairs, id).certPem, 'certificate');
  const key = (p: string, id: string): void => text(p, pair(pairs, id).keyPem, 'private-key', 0o600);

  const certificates = [...pairs.values()].map((p) => ({
    id: p.spec.id,
    purpose: p.spec.purpose,
    commonName: p.spec.commonName,
    names: [...p.spec.dnsNames, ...p.spec.ipAddresses].join(', ') || '-',
    notAfter: p.notAfter.toISOString().slice(0, 10),
  }));
  text('README.md', render('README.md.hbs', { ...model, certificates }), 'readme');

  for (const member of model.members) {
    const context = { ...model, member };
    const contents: Record<MemberContent, () => string> = {
      config: () => render('etcd.conf.hbs', context),
      unit: () => render('etcd.service.hbs', context),
      'ca-cert': () => pair(pairs, CA_ID).certPem,
      'server-cert': () => pair(pairs, serverId(member.name)).certPem,
      'server-key': () => pair(pairs, serverId(member.name)).keyPem,
      'peer-cert': () => pair(pairs, peerId(member.name)).certPem,
      'peer-key': () => pair(pairs, peerId(member.name)).keyPem,
    };
    for (const f of model.install.files) {
      files.push({ path: overlay(member, f.path), contents: contents[f.content](), mode: f.mode, owner: `${f.user}:${f.group}`, role: f.role });
    }
  }

  text('admin/aliases.sh', render('aliases.sh.hbs', model), 'admin-shell');
  text('admin/etcdctl.env', render('etcdctl.env.hbs', model), 'admin-shell');
  cert('admin/pki/ca.crt', CA_ID);
  cert('admin/pki/admin.crt', ADMIN_ID);
  key('admin/pki/admin.key', ADMIN_ID);

  text('kubernetes/external-etcd.yaml', render('external-etcd.yaml.hbs', model), 'kubeadm-config');
  cert('kubernetes/pki/ca.crt', CA_ID);
  cert('kubernetes/pki/apiserver-etcd-client.crt', APISERVER_ID);
  key('kubernetes/pki/apiserver-etcd-client.key', APISERVER_ID);

  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
