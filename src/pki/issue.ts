/**
 * Issuing: key generation and signing with WebCrypto and @peculiar/x509. Imported only when a build has
 * something to issue, so builds that reuse their secrets never load the x509 library.
 */
import { webcrypto } from 'node:crypto';
import type { KeyType } from '../input/config.js';
import type { CertSpec, Usage } from './profiles.js';
import * as x509 from './x509.js';

const DAY_MS = 86_400_000;
/** Issued certificates start a little in the past, for members whose clocks run behind. */
export const BACKDATE_MS = 5 * 60_000;
const subtle = webcrypto.subtle;

const USAGE_OID: Record<Usage, string> = {
  serverAuth: x509.ExtendedKeyUsage.serverAuth,
  clientAuth: x509.ExtendedKeyUsage.clientAuth,
};

type KeyAlgorithm = EcKeyGenParams | RsaHashedKeyGenParams;

function keyAlgorithm(type: KeyType): KeyAlgorithm {
  switch (type) {
    case 'ecdsa-p256':
      return { name: 'ECDSA', namedCurve: 'P-256' };
    case 'ecdsa-p384':
      return { name: 'ECDSA', namedCurve: 'P-384' };
    case 'rsa-2048':
    case 'rsa-3072':
    case 'rsa-4096':
      return { name: 'RSASSA-PKCS1-v1_5', modulusLength: Number(type.slice(4)), publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
  }
}

/** The signature algorithm a CA key of this type signs with. */
function signingAlgorithm(type: KeyType): Algorithm | EcdsaParams {
  if (type === 'ecdsa-p384') return { name: 'ECDSA', hash: 'SHA-384' } as EcdsaParams;
  if (type === 'ecdsa-p256') return { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams;
  return { name: 'RSASSA-PKCS1-v1_5' };
}

export async function generateKeyPair(type: KeyType): Promise<CryptoKeyPair> {
  return (await subtle.generateKey(keyAlgorithm(type), true, ['sign', 'verify'])) as CryptoKeyPair;
}

export async function exportPrivateKeyPem(key: CryptoKey): Promise<string> {
  return `${x509.PemConverter.encode(await subtle.exportKey('pkcs8', key), 'PRIVATE KEY')}\n`;
}

function pem(cert: x509.X509Certificate): string {
  return `${cert.toString('pem').replace(/\r\n/g, '\n').trimEnd()}\n`;
}

function startOf(now: Date): Date {
  return new Date(Math.floor((now.getTime() - BACKDATE_MS) / 1000) * 1000);
}

/** A random positive 128-bit serial whose first byte keeps its encoded length fixed. */
function serial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = ((bytes[0] ?? 0) & 0x3f) | 0x10;
  return Buffer.from(bytes).toString('hex');
}

/** A CA certificate: a CA and nothing else, that may sign leaves only (pathlen 0). Returns PEM. */
export async function createCa(spec: CertSpec, keys: CryptoKeyPair, now: Date): Promise<string> {
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${spec.commonName}`,
    notBefore: startOf(now),
    notAfter: new Date(now.getTime() + spec.days * DAY_MS),
    keys,
    signingAlgorithm: signingAlgorithm(spec.keyType),
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return pem(cert);
}

export interface Issuer {
  /** Signs a leaf for `spec` over `keys`; it ends with the CA at the latest. Returns PEM. */
  issue(spec: CertSpec, keys: CryptoKeyPair, now: Date): Promise<string>;
}

export async function makeIssuer(caCertPem: string, caKeyPem: string, caKeyType: KeyType): Promise<Issuer> {
  const caCert = new x509.X509Certificate(caCertPem);
  const [der] = x509.PemConverter.decode(caKeyPem);
  if (!der) throw new Error('the CA key holds no PEM block');
  const caKey = await subtle.importKey('pkcs8', der, keyAlgorithm(caKeyType), false, ['sign']);
  const authorityKeyId = await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey);
  return {
    async issue(spec, keys, now) {
      const names: x509.JsonGeneralName[] = [
        ...spec.dnsNames.map((value) => ({ type: 'dns' as const, value })),
        ...spec.ipAddresses.map((value) => ({ type: 'ip' as const, value })),
      ];
      const extensions: x509.Extension[] = [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | (spec.keyType.startsWith('rsa') ? x509.KeyUsageFlags.keyEncipherment : 0), true),
        new x509.ExtendedKeyUsageExtension(spec.usages.map((u) => USAGE_OID[u]), false),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
        authorityKeyId,
      ];
      if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names, false));
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: serial(),
        subject: `CN=${spec.commonName}`,
        issuer: caCert.subject,
        notBefore: startOf(now),
        notAfter: new Date(Math.min(now.getTime() + spec.days * DAY_MS, caCert.notAfter.getTime())),
        publicKey: keys.publicKey,
        signingKey: caKey,
        signingAlgorithm: signingAlgorithm(caKeyType),
        extensions,
      });
      return pem(cert);
    },
  };
}
