/**
 * `etcd-gen certs <config>`: every certificate with its names and expiry, and what the CA revoked. Exit 1
 * when any needs attention (missing, expired, or within tls.renewBeforeDays). Reads the secrets only: it
 * never issues anything.
 */
import { defaultSecretsDir, loadModel } from '../pipeline.js';
import { certSpecs } from '../pki/profiles.js';
import { certificateReport, formatCertTable, formatRevokedTable, revokedReport } from '../pki/report.js';
import { readCertificates } from '../pki/store.js';
import { EXIT_ATTENTION, EXIT_OK, type Console } from './console.js';

export interface CertsArgs {
  config: string;
  secrets: string | undefined;
}

export async function runCerts(args: CertsArgs, con: Console): Promise<number> {
  const { model, diagnostics } = await loadModel(args.config);
  con.printDiagnostics(diagnostics);
  const secretsDir = args.secrets ?? defaultSecretsDir(args.config);
  const rows = certificateReport(model, await readCertificates(secretsDir, certSpecs(model).map((s) => s.id)), new Date());
  const revoked = await revokedReport(secretsDir);
  if (con.json) con.printJson({ cluster: model.name, certificates: rows, revoked });
  else {
    con.out(formatCertTable(rows));
    if (revoked.length > 0) con.out(`\n${formatRevokedTable(revoked)}`);
  }
  const attention = rows.filter((r) => r.status !== 'ok');
  if (attention.length > 0) {
    con.say(`etcd-gen: ${attention.length} certificate(s) need attention: run etcd-gen build to issue missing ones and renew those within tls.renewBeforeDays`);
  }
  return attention.length > 0 ? EXIT_ATTENTION : EXIT_OK;
}
