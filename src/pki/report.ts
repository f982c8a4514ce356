/**
 * `etcd-gen certs`: every certificate in the secrets directory, what it names and when it expires.
 * `certificateReport` is pure (the stored PEM text and a clock); `revokedReport` reads the secrets
 * directory's ca.crl.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { StoredPair } from './index.js';
import { keyTypeOf, notAfter, parseCert, sanList } from './inspect.js';
import { certSpecs } from './profiles.js';
import { type ClusterModel } from '../model/types.js';

export type CertStatus = 'ok' | 'renew' | 'expired' | 'missing';

export interface CertRow {
  id: string;
  subject: string;
  names: string[];
  keyType: string;
  notAfter: string | null;
  daysLeft: number | null;
  status: CertStatus;
}

const DAY_MS = 86_400_000;

export function certificateReport(model: ClusterModel, stored: ReadonlyMap<string, StoredPair>, now: Date): CertRow[] {
  return certSpecs(model).map((spec) => {
    const pem = stored.get(spec.id)?.certPem ?? null;
    if (pem === null) return { id: spec.id, subject: '', names: [], keyType: '', notAfter: null, daysLeft: null, status: 'missing' };
    const cert = parseCert(pem);
    const end = notAfter(cert);
    const daysLeft = Math.floor((end.getTime() - now.getTime()) / DAY_MS);
    // A CA has no renewal window of its own: warn when it cannot cover a new leaf's validity.
    const window = spec.isCa ? model.tls.certDays : model.tls.renewBeforeDays;
    const status: CertStatus = daysLeft < 0 ? 'expired' : daysLeft < window ? 'renew' : 'ok';
    return {
      id: spec.id,
      subject: cert.subject,
      names: sanList(cert).map((n) => n.replace(/^(DNS|IP):/, '')),
      keyType: keyTypeOf(cert) ?? 'unknown',
      notAfter: end.toISOString(),
      daysLeft,
      status,
    };
  });
}

/** The report as an aligned text table. */
export function formatCertTable(rows: readonly CertRow[]): string {
  const header = ['CERTIFICATE', 'SUBJECT', 'KEY', 'EXPIRES', 'DAYS', 'STATUS', 'NAMES'];
  const table = rows.map((r) => [r.id, r.subject, r.keyType, r.notAfter?.slice(0, 10) ?? '-', r.daysLeft === null ? '-' : String(r.daysLeft), r.status, r.names.join(',') || '-']);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => (row[i] ?? '').length)));
  return [header, ...table].map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')).join('\n') + '\n';
}

export interface RevokedRow {
  serial: string;
  revokedAt: string;
}

/** What the CA's revocation list in the secrets directory (ca.crl) lists; empty when there is none. */
export async function revokedReport(secretsDir: string): Promise<RevokedRow[]> {
  let pem: string;
  try {
    pem = await readFile(path.join(secretsDir, 'ca.crl'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const { readCrl } = await import('./crl.js');
  return readCrl(pem).entries.map((e) => ({ serial: e.serial, revokedAt: e.revokedAt.toISOString() }));
}

export function formatRevokedTable(rows: readonly RevokedRow[]): string {
  const width = Math.max('REVOKED SERIAL'.length, ...rows.map((r) => r.serial.length));
  return [`${'REVOKED SERIAL'.padEnd(width)}  REVOKED ON`, ...rows.map((r) => `${r.serial.padEnd(width)}  ${r.revokedAt.slice(0, 10)}`)].join('\n') + '\n';
}
