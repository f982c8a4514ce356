/**
 * What each Kubernetes minor release asks of its external etcd and accepts of kubeadm's configuration, as
 * data with sources: kubeadm's MinExternalEtcdVersion (its preflight check ExternalEtcdVersion asks each
 * endpoint's /version and refuses an older etcd), the etcd release kubeadm runs by default, and the
 * kubeadm.k8s.io API versions it reads. A leaf like the rest of src/etcd/: pure data and look-ups;
 * validate.ts turns them into diagnostics.
 *
 * To add a minor: read cmd/kubeadm/app/constants/constants.go (MinExternalEtcdVersion, DefaultEtcdVersion)
 * and cmd/kubeadm/app/util/config/common.go (the API versions it refuses, with the kubeadm to migrate
 * with) of that k8s.io/kubernetes release (`go mod download k8s.io/kubernetes@v1.X.Y`); last checked
 * 2026-12-07 at v1.35.4, v1.36.3 and v1.37.2.
 */
import { compareReleases, parseRelease, type ReleaseNumber } from './releases.js';

/** A Kubernetes minor release as cluster.yaml names it: "1.37". */
export type KubernetesMinor = '1.35' | '1.36' | '1.37';

export interface KubernetesRelease {
  version: KubernetesMinor;
  /** kubeadm's MinExternalEtcdVersion, without kubeadm's image suffix (-0). */
  minExternalEtcd: string;
  /** kubeadm's DefaultEtcdVersion: the etcd it runs itself (stacked etcd), without the suffix. */
  defaultEtcd: string;
  source: string;
}

const constants = (tag: string, line1: number, line2: number) =>
  `k8s.io/kubernetes ${tag} cmd/kubeadm/app/constants/constants.go lines ${line1} (MinExternalEtcdVersion) and ${line2} (DefaultEtcdVersion)`;

/** Oldest first. The newest is the default kubernetes.version (schema/cluster.schema.json says so). */
export const KUBERNETES_RELEASES: readonly KubernetesRelease[] = [
  { version: '1.35', minExternalEtcd: '3.5.24', defaultEtcd: '3.6.6', source: constants('v1.35.4', 326, 329) },
  { version: '1.36', minExternalEtcd: '3.5.24', defaultEtcd: '3.6.8', source: constants('v1.36.3', 331, 334) },
  { version: '1.37', minExternalEtcd: '3.5.24', defaultEtcd: '3.7.0', source: constants('v1.37.2', 327, 330) },
];

/** The kubernetes.version used when cluster.yaml gives none: the newest Kubernetes etcd-gen knows. */
export const DEFAULT_KUBERNETES_VERSION: KubernetesMinor = '1.37';

export type KubeadmApiVersion = 'kubeadm.k8s.io/v1beta3' | 'kubeadm.k8s.io/v1beta4';

/**
 * The kubeadm configuration API versions etcd-gen writes, by Kubernetes minor (1.X as X). kubeadm.k8s.io/v1
 * (experimental in 1.37) is never written.
 */
export interface KubeadmApi {
  apiVersion: KubeadmApiVersion;
  acceptedFrom: number;
  /** The first minor that reads it but warns (and writes the next one); null when current. */
  deprecatedFrom: number | null;
  /** The first minor that refuses it; null when none does yet. */
  refusedFrom: number | null;
  source: string;
}

const COMMON = 'k8s.io/kubernetes v1.37.2 cmd/kubeadm/app/util/config/common.go lines 74-84 ("v1.31: v1beta3 read-only, writes only v1beta4 config"; "v1.37: only v1beta4 config. Errors if the user tries to use v1beta3 and older"; migrate v1beta3 with kubeadm v1.36)';

export const KUBEADM_APIS: readonly KubeadmApi[] = [
  { apiVersion: 'kubeadm.k8s.io/v1beta3', acceptedFrom: 22, deprecatedFrom: 31, refusedFrom: 37, source: COMMON },
  { apiVersion: 'kubeadm.k8s.io/v1beta4', acceptedFrom: 31, deprecatedFrom: null, refusedFrom: null, source: COMMON },
];

/** The data of a Kubernetes minor etcd-gen knows, or undefined. */
export function kubernetesRelease(version: string): KubernetesRelease | undefined {
  return KUBERNETES_RELEASES.find((k) => k.version === version);
}

/** Whether etcd release R meets kubeadm's MinExternalEtcdVersion of Kubernetes K. */
export function meetsKubeadm(r: ReleaseNumber, k: KubernetesRelease): boolean {
  const min = parseRelease(k.minExternalEtcd);
  return min !== null && compareReleases(r, min) >= 0;
}

/** What kubeadm of Kubernetes K does with API version A: 'accepted', 'deprecated', 'refused' or 'too-new'. */
export function kubeadmApiStatus(a: KubeadmApiVersion, k: KubernetesRelease): 'accepted' | 'deprecated' | 'refused' | 'too-new' {
  const api = KUBEADM_APIS.find((x) => x.apiVersion === a);
  const minor = Number(k.version.split('.')[1]);
  if (!api || minor < api.acceptedFrom) return 'too-new';
  if (api.refusedFrom !== null && minor >= api.refusedFrom) return 'refused';
  if (api.deprecatedFrom !== null && minor >= api.deprecatedFrom) return 'deprecated';
  return 'accepted';
}

/**
 * Debian's etcd, the release the package route installs (https://packages.debian.org/etcd-server): none
 * meets kubeadm 1.35 to 1.37's 3.5.24.
 */
export const DEBIAN_ETCD: Readonly<Record<string, string>> = { bookworm: '3.4.23', trixie: '3.5.16' };
