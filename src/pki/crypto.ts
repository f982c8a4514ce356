/** WebCrypto plumbing for the PKI: key algorithms, PEM, and the x509 library's provider. */
import { webcrypto } from 'node:crypto';
import * as x509 from './x509.js';
import type { KeyType } from '../config.js';

let ready = false;

/** Points @peculiar/x509 at Node's own WebCrypto; called by every PKI entry point. */
export function useNodeCrypto(): typeof webcrypto.subtle {
  if (!ready) {
    x509.cryptoProvider.set(webcrypto as unknown as Crypto);
    ready = true;
  }
  return webcrypto.subtle;
}

export type KeyAlgorithm = EcKeyGenParams | RsaHashedKeyGenParams;

export function keyAlgorithm(type: KeyType): KeyAlgorithm {
  switch (type) {
    case 'ecdsa-p256':
      return { name: 'ECDSA', namedCurve: 'P-256' };
    case 'ecdsa-p384':
      return { name: 'ECDSA', namedCurve: 'P-384' };
    case 'rsa-2048':
    case 'rsa-3072':
    case 'rsa-4096':
      return {
        name: 'RSASSA-PKCS1-v1_5',
        modulusLength: Number(type.slice(4)),
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: 'SHA-256',
      };
  }
}

/** The signature algorithm a CA key of this type signs with. */
export function signingAlgorithm(type: KeyType): Algorithm | EcdsaParams {
  if (type === 'ecdsa-p384') return { name: 'ECDSA', hash: 'SHA-384' } as EcdsaParams;
  if (type === 'ecdsa-p256') return { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams;
  return { name: 'RSASSA-PKCS1-v1_5' };
}

/** The key type of a certificate's public key, or null for anything etcd-gen does not issue. */
export function keyTypeOf(cert: x509.X509Certificate): KeyType | null {
  const alg = cert.publicKey.algorithm as Partial<EcKeyAlgorithm & RsaHashedKeyAlgorithm>;
  if (alg.name === 'ECDSA' && alg.namedCurve === 'P-256') return 'ecdsa-p256';
  if (alg.name === 'ECDSA' && alg.namedCurve === 'P-384') return 'ecdsa-p384';
  if (alg.name === 'RSASSA-PKCS1-v1_5' || alg.name === 'RSA-PSS' || alg.name === 'RSA-OAEP') {
    const bits = alg.modulusLength;
    if (bits === 2048 || bits === 3072 || bits === 4096) return `rsa-${bits}`;
  }
  return null;
}

export async function generateKeyPair(type: KeyType): Promise<CryptoKeyPair> {
  const subtle = useNodeCrypto();
  return (await subtle.generateKey(keyAlgorithm(type), true, ['sign', 'verify'])) as CryptoKeyPair;
}

export async function exportPrivateKeyPem(key: CryptoKey): Promise<string> {
  const der = await useNodeCrypto().exportKey('pkcs8', key);
  return `${x509.PemConverter.encode(der, 'PRIVATE KEY')}\n`;
}

export async function importPrivateKeyPem(pem: string, type: KeyType): Promise<CryptoKey> {
  const [der] = x509.PemConverter.decode(pem);
  if (!der) throw new Error('no PEM block');
  return useNodeCrypto().importKey('pkcs8', der, keyAlgorithm(type), true, ['sign']);
}

/** DER of the SubjectPublicKeyInfo that belongs to a private key, to match keys with certificates. */
export async function publicKeyOfPrivate(key: CryptoKey): Promise<ArrayBuffer> {
  const subtle = useNodeCrypto();
  const jwk = await subtle.exportKey('jwk', key);
  delete jwk.d;
  delete jwk.p;
  delete jwk.q;
  delete jwk.dp;
  delete jwk.dq;
  delete jwk.qi;
  jwk.key_ops = ['verify'];
  const pub = await subtle.importKey('jwk', jwk, key.algorithm as KeyAlgorithm, true, ['verify']);
  return subtle.exportKey('spki', pub);
}

export function certPem(cert: x509.X509Certificate): string {
  return `${cert.toString('pem').replace(/\r\n/g, '\n').trimEnd()}\n`;
}

export function bytesEqual(a: ArrayBuffer, b: ArrayBuffer): boolean {
  const x = new Uint8Array(a);
  const y = new Uint8Array(b);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}
