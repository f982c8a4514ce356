/**
 * `etcd-gen init`: a commented starter cluster.yaml that builds as is. The answers come from flags or from
 * questions on a terminal; the text is validated before anything is written.
 */
import path from 'node:path';
import { InputError } from './diagnostics.js';
import { parseClusterSource } from './load.js';
import { loadTemplates } from './render.js';
import { packageRoot } from './resources.js';
import { validateCluster } from './validate.js';
import { newestRelease } from './etcd-releases.js';

export interface StarterNode {
  name: string;
  host: string;
  ip?: string;
}

export interface StarterAnswers {
  name: string;
  version: string;
  nodes: StarterNode[];
}

export const STARTER_DEFAULTS: StarterAnswers = {
  name: 'k8s1',
  version: newestRelease(),
  nodes: [
    { name: 'etcd1', host: 'etcd1.example.lan', ip: '10.0.0.11' },
    { name: 'etcd2', host: 'etcd2.example.lan', ip: '10.0.0.12' },
    { name: 'etcd3', host: 'etcd3.example.lan', ip: '10.0.0.13' },
  ],
};

/** `name=host` or `name=host,ip`, as --node takes it. */
export function parseNodeFlag(value: string): StarterNode {
  const [name, rest] = value.split('=', 2);
  const [host, ip] = (rest ?? '').split(',', 2);
  return { name: name ?? '', host: host ?? '', ...(ip ? { ip } : {}) };
}

/** The starter text for `file`; throws InputError (with positions in that text) when the answers are invalid. */
export function starterCluster(answers: StarterAnswers, file: string): string {
  const template = loadTemplates().get('starter-cluster.yaml.hbs');
  if (!template) throw new Error('missing template starter-cluster.yaml.hbs');
  const schema = path.join(packageRoot, 'schema', 'cluster.schema.json');
  const relative = path.relative(path.dirname(path.resolve(file)), schema);
  const text = template({
    ...answers,
    fileName: path.basename(file),
    schemaPath: relative.startsWith('..') && relative.split(path.sep).length > 6 ? schema : relative.split(path.sep).join('/'),
  });
  const result = validateCluster(parseClusterSource(text, file));
  if (!result.config) throw new InputError(result.diagnostics.filter((d) => d.severity === 'error'));
  return text;
}
