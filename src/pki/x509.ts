/**
 * @peculiar/x509 2.x needs a Reflect metadata polyfill loaded before it (its dependency injection uses
 * it), and a WebCrypto provider before it signs: importing the library only through this module keeps
 * that order in every entry point, and sets Node's WebCrypto once (Node's type and the DOM's Crypto
 * differ only in name, hence the one cast).
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export * from '@peculiar/x509';
