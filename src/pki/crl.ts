/**
 * The certificate revocation list (RFC 5280 section 5) of the cluster's CA: which certificates the CA signed
 * are no longer to be accepted, without a new CA. etcd reads it on every new TLS connection
 * (`--client-crl-file`, `--peer-crl-file`, both in every 3.4, 3.5 and 3.6 release; etcd's
 * client/pkg/transport/listener_tls.go, checkCRL) and refuses a peer or client whose certificate serial
 * it lists. etcd compares serials only: it checks neither the CRL's signature nor its dates.
 *
 * 3.6 parses the file with Go's x509.ParseRevocationList, which takes DER only (a PEM CRL makes 3.6
 * refuse every connection, "x509: malformed crl"); 3.4 and 3.5 take either. Members therefore get DER.
 * The secrets directory keeps the signed CRL as PEM (`ca.crl`), reused byte for byte until the list
 * changes: an ECDSA signature is randomized, and the same input must give the same output.
 */
import { webcrypto } from 'node:crypto';
import type { KeyType } from '../input/config.js';
import { normalizeSerial } from './inspect.js';
import * as x509 from './x509.js';


export interface Revocation {
  /** The serial as lower-case hex without leading zeros (how Go compares serials: big-endian magnitude). */
  serial: string;
  revokedAt: Date;
}

export interface CrlRecord {
  pem: string;
  /** RFC 5280 cRLNumber: grows by one with every new list. */
  number: number;
  entries: Revocation[];
  thisUpdate: Date;
}


const CRL_NUMBER_OID = '2.5.29.20';

/** Parses a stored CRL; throws when it is not one. */
export function readCrl(pem: string): CrlRecord {
  const crl = new x509.X509Crl(pem);
  const numberExt = crl.extensions.find((e) => e.type === CRL_NUMBER_OID);
  let number = 0;
  if (numberExt) {
    // DER INTEGER: tag 02, short length, big-endian magnitude.
    const v = new Uint8Array(numberExt.value);
    for (let i = 2; i < v.length; i++) number = number * 256 + (v[i] ?? 0);
  }
  return {
    pem,
    number,
    entries: crl.entries.map((e) => ({ serial: normalizeSerial(e.serialNumber) ?? e.serialNumber, revokedAt: e.revocationDate })),
    thisUpdate: crl.thisUpdate,
  };
}

/** The DER bytes of a PEM CRL, as members get them. */
export function crlDer(pem: string): Buffer {
  const [der] = x509.PemConverter.decode(pem);
  if (!der) throw new Error('the CRL holds no PEM block');
  return Buffer.from(der);
}

function derInteger(n: number): Uint8Array<ArrayBuffer> {
  const bytes: number[] = [];
  let v = n;
  do {
    bytes.unshift(v & 0xff);
    v = Math.floor(v / 256);
  } while (v > 0);
  if ((bytes[0] ?? 0) & 0x80) bytes.unshift(0);
  return new Uint8Array([0x02, bytes.length, ...bytes]);
}

/** A serial as @peculiar/x509 encodes it: even-length hex, a leading 00 keeping it positive. */
function entrySerial(serial: string): string {
  let hex = serial.length % 2 === 1 ? `0${serial}` : serial;
  if (/^[89a-f]/.test(hex)) hex = `00${hex}`;
  return hex;
}

function signingParams(type: KeyType): { importAlg: EcKeyImportParams | RsaHashedImportParams; sign: Algorithm | EcdsaParams } {
  if (type === 'ecdsa-p256') return { importAlg: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams };
  if (type === 'ecdsa-p384') return { importAlg: { name: 'ECDSA', namedCurve: 'P-384' }, sign: { name: 'ECDSA', hash: 'SHA-384' } as EcdsaParams };
  return { importAlg: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, sign: { name: 'RSASSA-PKCS1-v1_5' } };
}

/**
 * A CRL signed by the CA (its PKCS#8 key), listing `entries` sorted by serial, numbered `number`, valid
 * from `now` until the CA itself expires (etcd never fetches a newer one; a new list comes with a build).
 */
export async function signCrl(ca: { certPem: string; keyPem: string; keyType: KeyType }, entries: readonly Revocation[], number: number, now: Date): Promise<string> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const [der] = x509.PemConverter.decode(ca.keyPem);
  if (!der) throw new Error('the CA key holds no PEM block');
  const { importAlg, sign } = signingParams(ca.keyType);
  const key = await webcrypto.subtle.importKey('pkcs8', der, importAlg, false, ['sign']);
  const sorted = [...entries].sort((a, b) => (a.serial.length - b.serial.length) || (a.serial < b.serial ? -1 : a.serial > b.serial ? 1 : 0));
  const crl = await x509.X509CrlGenerator.create({
    issuer: caCert.subjectName,
    thisUpdate: new Date(Math.floor(now.getTime() / 1000) * 1000),
    nextUpdate: caCert.notAfter,
    signingAlgorithm: sign,
    signingKey: key,
    entries: sorted.map((e) => ({ serialNumber: entrySerial(e.serial), revocationDate: new Date(Math.floor(e.revokedAt.getTime() / 1000) * 1000) })),
    extensions: [await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey), new x509.Extension(CRL_NUMBER_OID, false, derInteger(number))],
  });
  return `${crl.toString('pem').replace(/\r\n/g, '\n').trimEnd()}\n`;
}
