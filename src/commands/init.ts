/**
 * `etcd-gen init`: a commented starter cluster.yaml that builds as is. The answers come from flags or from
 * questions on a terminal; the text is validated before anything is written.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as readline from 'node:readline/promises';
import { InputError, UsageError } from '../diagnostics.js';
import { newestRelease } from '../etcd/releases.js';
import { parseClusterSource } from '../input/load.js';
import { validateCluster } from '../input/validate.js';
import { loadTemplates } from '../render/render.js';
import { packageRoot } from '../resources.js';
import { EXIT_OK, type Console } from './console.js';

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

export interface InitArgs {
  file: string;
  name: string | undefined;
  etcdVersion: string | undefined;
  node: string[] | undefined;
  force: boolean;
}

async function ask(con: Console, question: string, fallback: string): Promise<string> {
  const rl = readline.createInterface({ input: con.io.stdin, output: con.io.stderr as NodeJS.WritableStream });
  try {
    const answer = (await rl.question(`${question}${fallback ? ` [${fallback}]` : ''}: `)).trim();
    return answer || fallback;
  } finally {
    rl.close();
  }
}

/** Asks on a terminal when no --node is given; never replaces a file without --force (exit 2). */
export async function runInit(args: InitArgs, con: Console): Promise<number> {
  if (existsSync(args.file) && !args.force) throw new UsageError(`${args.file} exists: choose another file, or pass --force to replace it`);
  const interactive = con.io.stdin.isTTY === true && con.io.stderr.isTTY === true && args.node === undefined && !con.json;
  let answers = {
    name: args.name ?? STARTER_DEFAULTS.name,
    version: args.etcdVersion ?? STARTER_DEFAULTS.version,
    nodes: args.node ? args.node.map(parseNodeFlag) : STARTER_DEFAULTS.nodes,
  };
  if (interactive) {
    const name = args.name ?? (await ask(con, 'cluster name (a DNS label)', answers.name));
    const version = args.etcdVersion ?? (await ask(con, 'etcd version', answers.version));
    const nodes = [];
    con.io.stderr.write('members, one per line as: name host [ip]; an empty line when done\n');
    for (;;) {
      const line = await ask(con, `member ${nodes.length + 1}`, '');
      if (!line) break;
      const [n, host, ip] = line.split(/\s+/);
      nodes.push({ name: n ?? '', host: host ?? '', ...(ip ? { ip } : {}) });
    }
    answers = { name, version, nodes: nodes.length > 0 ? nodes : answers.nodes };
  }
  // 3.4 is out of upstream support: it stays for import, takeover and as an upgrade source, never for a new cluster.
  if (/^v?3\.4\./.test(answers.version)) {
    throw new UsageError(`etcd ${answers.version} is out of upstream support: init starts new clusters on 3.5 or later (the default is ${STARTER_DEFAULTS.version}); a running 3.4 cluster comes in through etcd-gen import or takeover, then upgrades`);
  }
  const text = starterCluster(answers, args.file);
  await writeFile(args.file, text, { flag: args.force ? 'w' : 'wx' });
  if (con.json) con.printJson({ ok: true, file: args.file });
  con.say(`etcd-gen: wrote ${args.file}; next: etcd-gen build ${args.file} -o out`);
  return EXIT_OK;
}
