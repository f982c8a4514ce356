/**
 * How etcd gets onto a member: the install route (tarball, Debian package, or none), the packages and the
 * steps cloud-init's user-data runs (nodes/<name>/user-data.yaml), so a fresh Debian/Ubuntu VM becomes a
 * member with no other step. Pure; the YAML layout of user-data is src/render/user-data.ts.
 * cloud-init reference: https://cloudinit.readthedocs.io/en/22.4/reference/modules.html (users_groups,
 * write_files, package_update_upgrade_install, runcmd).
 */
import type { EtcdInstallConfig } from '../input/config.js';
import { shellQuote as q } from '../shell.js';
import type { CloudInitStep, EtcdInstall, EtcdVersion, MemberInstall } from './types.js';

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
