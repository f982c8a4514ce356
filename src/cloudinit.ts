/**
 * cloud-init user-data (nodes/<name>/user-data.yaml): how a fresh Debian/Ubuntu VM becomes a member with
 * no other step. Pure. The model gets what user-data installs and runs (`etcdInstall`, `cloudInitSteps`);
 * render gets the YAML block scalars, so the template holds layout only.
 * cloud-init reference: https://cloudinit.readthedocs.io/en/22.4/reference/modules.html (users_groups,
 * write_files, package_update_upgrade_install, runcmd).
 */
import type { EtcdInstallConfig, InstallSource } from './config.js';
import type { EtcdVersion, InstallFile, MemberInstall } from './model.js';
import { shellQuote as q } from './shell.js';

/** etcd.install, resolved: exactly one of tarball, package and none is set. */
export interface EtcdInstall {
  from: InstallSource;
  /** from: tarball: where the release tarball is and its SHA-256; null otherwise. */
  tarball: { url: string; sha256: string; binaries: string[] } | null;
  /** from: package: the Debian/Ubuntu packages; null otherwise. */
  package: { names: string[] } | null;
  /** from: none: user-data does not install etcd. */
  none: boolean;
}

/** One item of runcmd: an sh script, with why it is there (a comment above it in user-data). */
export interface CloudInitStep {
  name: 'strict' | 'etcd' | 'directories' | 'start';
  why: string;
  script: string;
}

/** The line `etcd --version` prints first, which the install step checks. */
export const versionLine = (version: EtcdVersion): string => `etcd Version: ${version.text}`;

/** The release tarball on GitHub, as etcd's release script names it. */
export function defaultTarballUrl(version: EtcdVersion): string {
  return `https://github.com/etcd-io/etcd/releases/download/v${version.text}/etcd-v${version.text}-linux-amd64.tar.gz`;
}

export const DISTRO_PACKAGES = ['etcd-server', 'etcd-client'];

export function resolveEtcdInstall(config: EtcdInstallConfig, version: EtcdVersion): EtcdInstall {
  // etcdutl (offline snapshot restore and defrag) ships from 3.5 on.
  const binaries = ['etcd', 'etcdctl', ...(version.minor >= 5 ? ['etcdutl'] : [])];
  return {
    from: config.from,
    tarball: config.from === 'tarball' ? { url: config.url ?? defaultTarballUrl(version), sha256: config.sha256 ?? '', binaries } : null,
    package: config.from === 'package' ? { names: [...DISTRO_PACKAGES] } : null,
    none: config.from === 'none',
  };
}

/** Packages cloud-init installs before runcmd runs (its package module runs apt-get update first). */
export function cloudInitPackages(install: EtcdInstall): string[] {
  return install.tarball ? ['ca-certificates', 'curl'] : [];
}

const fail = (message: string): string => `  echo ${q(`etcd-gen user-data: ${message}`)} >&2\n  exit 1`;

function etcdStep(install: EtcdInstall, version: EtcdVersion, bin: string): CloudInitStep {
  const etcd = `${bin}/etcd`;
  const checkVersion = [
    `if ! ${q(etcd)} --version | grep -qx ${q(versionLine(version))}; then`,
    fail(`${etcd} is not etcd ${version.text}, the version cluster.yaml pins`),
    'fi',
  ];
  if (install.tarball) {
    const { url, sha256, binaries } = install.tarball;
    return {
      name: 'etcd',
      why: `Install etcd ${version.text} from the release tarball into ${bin}, checked against the pinned SHA-256 before it is unpacked.`,
      script: [
        'etcd_tmp=$(mktemp -d)',
        `curl -fsSL --retry 3 -o "$etcd_tmp/etcd.tar.gz" ${q(url)}`,
        `if ! printf '%s  %s\\n' ${q(sha256)} "$etcd_tmp/etcd.tar.gz" | sha256sum -c --strict --quiet -; then`,
        fail(`${url} does not have the sha256 cluster.yaml pins (${sha256}): nothing was unpacked or installed`),
        'fi',
        'tar -xzf "$etcd_tmp/etcd.tar.gz" -C "$etcd_tmp" --strip-components=1 --no-same-owner',
        `install -d -m 0755 ${q(bin)}`,
        `install -m 0755 -o root -g root ${binaries.map((b) => `"$etcd_tmp"/${q(b)}`).join(' ')} ${q(bin)}`,
        'rm -rf "$etcd_tmp"',
        ...checkVersion,
      ].join('\n'),
    };
  }
  if (install.package) {
    const saved = '/usr/sbin/policy-rc.d.etcd-gen-saved';
    return {
      name: 'etcd',
      why: `Install etcd from the distribution's packages (${install.package.names.join(', ')}). A policy-rc.d that refuses every start keeps the package from starting etcd with its own defaults meanwhile.`,
      script: [
        `if [ -e /usr/sbin/policy-rc.d ]; then mv /usr/sbin/policy-rc.d ${saved}; fi`,
        "printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d",
        'chmod 0755 /usr/sbin/policy-rc.d',
        'etcd_apt=0',
        `{ apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${install.package.names.map(q).join(' ')}; } || etcd_apt=$?`,
        'rm -f /usr/sbin/policy-rc.d',
        `if [ -e ${saved} ]; then mv ${saved} /usr/sbin/policy-rc.d; fi`,
        'if [ "$etcd_apt" -ne 0 ]; then',
        fail(`apt-get could not install ${install.package.names.join(' ')}`),
        'fi',
        ...checkVersion,
      ].join('\n'),
    };
  }
  return {
    name: 'etcd',
    why: `etcd.install is none: etcd ${version.text} must already be at ${etcd}.`,
    script: [
      `if [ ! -x ${q(etcd)} ]; then`,
      fail(`${etcd} is missing: install etcd ${version.text} there (or set etcd.install in cluster.yaml), then run: systemctl enable etcd && systemctl start --no-block etcd`),
      'fi',
    ].join('\n'),
  };
}

/**
 * runcmd, in order. cloud-init writes every item into one sh script (its util.shellify), so `set -eu` in
 * the first item stops the whole script at the first failing step: etcd never starts half installed.
 */
export function cloudInitSteps(install: EtcdInstall, version: EtcdVersion, bin: string, member: MemberInstall): CloudInitStep[] {
  return [
    { name: 'strict', why: 'runcmd items run as one sh script: stop at the first step that fails.', script: 'set -eu' },
    etcdStep(install, version, bin),
    {
      name: 'directories',
      why: "write_files creates missing parent directories as root: give etcd's directories their owners and modes (install -d also fixes existing ones).",
      script: member.directories.map((d) => `install -d -o ${q(d.user)} -g ${q(d.group)} -m ${d.modeText} ${q(d.path)}`).join('\n'),
    },
    {
      name: 'start',
      why: 'etcd is Type=notify and a new member waits for a quorum of its peers: --no-block, so cloud-init does not time out waiting.',
      script: ['systemctl daemon-reload', 'systemctl enable etcd', 'systemctl start --no-block etcd'].join('\n'),
    },
  ];
}

/** Text a YAML literal block cannot carry as is: control characters, CR, BOM, or leading white space. */
const NOT_LITERAL = /[^\t\n\x20-\x7e\u0085\u00a0-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]|\ufeff|^[\s]/u;

/**
 * `text` as a YAML block scalar whose lines are indented by `indent` spaces: `|` when it ends with one
 * newline, `|-` with none, `|+` with more, so it reads back byte for byte. Text a literal block cannot hold
 * becomes a double-quoted scalar instead (JSON is valid YAML).
 */
export function yamlBlock(text: string, indent: number): string {
  if (text === '' || NOT_LITERAL.test(text)) return JSON.stringify(text);
  const chomping = !text.endsWith('\n') ? '-' : text.endsWith('\n\n') ? '+' : '';
  const lines = (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n');
  const pad = ' '.repeat(indent);
  return `|${chomping}${lines.map((line) => `\n${line === '' ? '' : pad + line}`).join('')}`;
}

/** A write_files entry: what the member's overlay holds at `path`, with its owner and mode. */
export interface UserDataFile {
  path: string;
  owner: string;
  permissions: string;
  /** The contents as a YAML scalar (a literal block, indented for its place in the list). */
  content: string;
  /** `b64` for a binary file (the DER CRL), whose content is then base64 (cloud-init's write_files encoding). */
  encoding: 'b64' | null;
}

/** Indentation of a write_files entry's content lines, and of a runcmd item's lines (see the template). */
export const FILE_CONTENT_INDENT = 6;
export const RUNCMD_INDENT = 4;

export function userDataFiles(files: readonly { file: InstallFile; contents: string }[]): UserDataFile[] {
  return files.map(({ file, contents }) => ({
    path: file.path,
    owner: `${file.user}:${file.group}`,
    permissions: file.modeText,
    ...(file.content === 'crl' ? { content: JSON.stringify(contents), encoding: 'b64' as const } : { content: yamlBlock(contents, FILE_CONTENT_INDENT), encoding: null }),
  }));
}

export function userDataRuncmd(steps: readonly CloudInitStep[]): { why: string; item: string }[] {
  return steps.map((s) => ({ why: s.why, item: yamlBlock(`${s.script}\n`, RUNCMD_INDENT) }));
}
