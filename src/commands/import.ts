/**
 * `etcd-gen import <env-dir>`: describe a cluster built by the manual cfssl procedure (its env directory)
 * as a cluster.yaml and a secrets directory that keeps its CA (src/procedure/import.ts).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { importProcedure, readProcedureDir, writeImport } from '../procedure/import.js';
import { EXIT_OK, diagnosticJson, type Console } from './console.js';

export interface ImportArgs {
  envDir: string;
  out: string;
  secrets: string | undefined;
  etcdVersion: string;
  name: string | undefined;
  dataDir: string | undefined;
  memberList: string | undefined;
}

export async function runImport(args: ImportArgs, con: Console): Promise<number> {
  const files = await readProcedureDir(args.envDir);
  const memberList = args.memberList === undefined ? undefined : { file: args.memberList, text: await readFile(args.memberList, 'utf8') };
  const result = importProcedure(files, {
    etcdVersion: args.etcdVersion,
    configFile: args.out,
    ...(args.name !== undefined ? { name: args.name } : {}),
    ...(args.dataDir !== undefined ? { dataDir: args.dataDir } : {}),
    ...(memberList ? { memberList } : {}),
  });
  const secrets = args.secrets ?? path.join(path.dirname(args.out), 'secrets');
  await writeImport(result, args.out, secrets);
  con.printDiagnostics(result.warnings);
  if (con.json) con.printJson({ ok: true, file: args.out, secrets, notes: result.notes, sharedCertificates: result.sharedCerts, diagnostics: result.warnings.map(diagnosticJson) });
  con.say(`etcd-gen: wrote ${args.out} and the CA into ${secrets}/`);
  for (const note of result.notes) con.say(`  - ${note}`);
  con.say(
    `next: etcd-gen build ${args.out} -o out, then out/runbooks/takeover.sh: it moves the members one at a time, each only with the others healthy, from etcd3 to etcd-gen's etcd.service on the same data (out/README.md)`,
  );
  return EXIT_OK;
}
