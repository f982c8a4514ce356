/**
 * @peculiar/x509 2.x needs a Reflect metadata polyfill loaded before it (its dependency injection uses
 * it); importing the library only through this module keeps that order in every entry point.
 */
import 'reflect-metadata';

export * from '@peculiar/x509';
