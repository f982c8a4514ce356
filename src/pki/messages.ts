/** What the PKI stage says about the secrets it finds: the problem, then the fix. */
const iso = (d: Date): string => d.toISOString().slice(0, 10);

export const pkiMessages = {
  caMissingButOutputHasOne: (previousCa: string) =>
    `no CA key here, but ${previousCa} shows the output was built with a CA: etcd-gen will not create a new CA over an existing cluster. ` +
    'Point --secrets at the secrets directory of that build (or restore it from backup); to start a brand-new PKI on purpose, remove the output directory first',
  caHalfMissing: (cert: string, key: string) =>
    `${cert} and ${key} must both be present: restore the missing one from backup. etcd-gen never replaces an existing CA`,
  notACa: 'this certificate is not a CA (no basicConstraints CA:TRUE): restore the real ca.crt',
  caExpired: (when: Date) =>
    `the CA expired on ${iso(when)}: every certificate it signed is invalid, so members can no longer connect to each other. ` +
    'Check this machine\'s clock first; then run etcd-gen build --rotate-ca to replace the CA in one step, and runbooks/rotate-certs.sh --all-at-once to install it on every member',
  caDiffersFromOutput: (previousCa: string) =>
    `this CA is not the one ${previousCa} was built with: is --secrets pointing at another cluster's secrets? Use the matching secrets directory`,
  caKeyTypeKept: (have: string, want: string) =>
    `the CA's key type stays ${have} (tls.key asks for ${want}): a CA is never replaced by a build; leaves use ${want}`,
  caExpiresSoon: (days: number, certDays: number) =>
    `the CA expires in ${days} days, sooner than a new leaf's ${certDays} days: new certificates end with the CA; plan a CA rotation`,
  notACertificate: 'not a PEM certificate: restore it from backup, or delete this file and its .key to have a new pair issued',
  unsupportedKeyType: 'the certificate has a key type etcd-gen does not issue: restore the right file, or delete it and its .key',
  notAKey: (cert: string) => `not a PEM private key (PKCS#8, PKCS#1 or SEC1) of the type ${cert} has: restore it from backup, or delete both files to have a new pair issued`,
  keyEncrypted:
    'this private key is encrypted with a passphrase, and builds run unattended: decrypt it once (openssl pkey -in KEY -out KEY.plain, then move KEY.plain over KEY, mode 0600); to keep keys encrypted at rest, use age.encryptSecrets',
  keyMismatch: (cert: string) => `this key does not belong to ${cert}: restore the matching pair, or delete both files to have a new pair issued`,
  unknownCertificate: (id: string, known: readonly string[]) => `no certificate "${id}" to renew: name one of ${known.join(', ')}, or renew all`,
  revokeCa: 'a CA cannot revoke itself: to stop trusting everything it signed, rotate the CA (build --rotate-ca)',
  revokeNothingStored: (id: string) => `${id} has no certificate in the secrets directory yet: there is nothing to revoke`,
  revokeNotACert: 'not a PEM certificate: name a certificate file, an id as etcd-gen certs lists them, or a serial in hex',
  revokeOtherCa: "this certificate was not signed by this cluster's CA, so members do not trust it anyway: nothing to revoke",
  revokeUnknown: (request: string, known: readonly string[]) =>
    `"${request}" is no certificate file, certificate id or hex serial: name a file, one of ${known.join(', ')}, or a serial such as 4f:0a:...`,
  revokeInUse: (from: string, id: string) =>
    `${from} is the serial of ${id}, which this build still uses: revoke it by its id (--revoke ${id}) to have it reissued in the same build`,
  revokeBeforeMove: (from: string, record: string, notMoved: readonly string[] | null, runbook: string) =>
    `${from} is one of the manual procedure's shared certificates (etcd-gen import recorded it), and ` +
    (notMoved === null ? `there is no ${record} saying that every member has moved off it` : `${record} does not list ${notMoved.join(', ')} as moved`) +
    `: a member that still uses it would be cut off by the revocation list. Run ${runbook} first (it moves the members left, checks each runs this output's unit and records it there), then build --revoke again`,
  procedureRecordUnreadable: 'not the JSON list of shared certificates etcd-gen import writes: restore it from backup, or delete it to revoke without the check that every member has moved',
  crlUnreadable: 'not a PEM certificate revocation list: restore it from backup (the list of revoked certificates cannot be made again)',
  nothingToRotate: 'there is no CA to rotate yet: run etcd-gen build once without --rotate-ca',
  leafClampedToCa: (end: Date) => `ends on ${iso(end)} with the CA, earlier than certDays asks: plan a CA rotation`,
} as const;
