/**
 * A compact schema of the KubeletConfiguration (kubelet.config.k8s.io/v1beta1) fields flexnode writes, with their
 * Go types, from k8s.io/kubelet/config/v1beta1/types.go (kubernetes/kubernetes, staging/src/k8s.io/kubelet):
 *
 *   CgroupDriver string `json:"cgroupDriver"`            ContainerRuntimeEndpoint string `json:"containerRuntimeEndpoint"`
 *   ClusterDNS []string `json:"clusterDNS"`               ClusterDomain string `json:"clusterDomain"`
 *   ResolverConfig *string `json:"resolvConf"`            Authentication KubeletAuthentication `json:"authentication"`
 *   Authorization KubeletAuthorization                     ReadOnlyPort int32 `json:"readOnlyPort"`
 *   RotateCertificates bool, ServerTLSBootstrap bool, ProtectKernelDefaults bool, FailSwapOn *bool
 *   MaxPods int32, EvictionHard map[string]string, KubeReserved map[string]string
 *   ImageGCHighThresholdPercent *int32, ImageGCLowThresholdPercent *int32
 *   ContainerLogMaxSize string, ContainerLogMaxFiles *int32, VolumePluginDir string
 *   RegisterWithTaints []v1.Taint (key string, value string, effect TaintEffect)
 *   KubeletAuthentication{x509{clientCAFile string}, webhook{enabled *bool, cacheTTL metav1.Duration}, anonymous{enabled *bool}}
 *   KubeletAuthorization{mode KubeletAuthorizationMode (AlwaysAllow|Webhook), webhook{cacheAuthorizedTTL, cacheUnauthorizedTTL metav1.Duration}}
 *   Address string, TLSCipherSuites []string, EventRecordQPS *int32, CgroupsPerQOS *bool, PodPidsLimit *int64
 *   NodeStatusUpdateFrequency, StreamingConnectionIdleTimeout, RuntimeRequestTimeout metav1.Duration
 *   EnforceNodeAllocatable []string
 */
export type FieldType =
  | 'string'
  | 'bool'
  | 'int32'
  | 'int64'
  | 'duration'
  | { list: FieldType }
  | { map: FieldType }
  | { enum: readonly string[] }
  | { object: Readonly<Record<string, FieldType>> };

const taint: FieldType = { object: { key: 'string', value: 'string', effect: { enum: ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] } } };

export const KUBELET_CONFIGURATION_V1BETA1: Readonly<Record<string, FieldType>> = {
  apiVersion: { enum: ['kubelet.config.k8s.io/v1beta1'] },
  kind: { enum: ['KubeletConfiguration'] },
  cgroupDriver: { enum: ['systemd', 'cgroupfs'] },
  containerRuntimeEndpoint: 'string',
  clusterDNS: { list: 'string' },
  clusterDomain: 'string',
  resolvConf: 'string',
  authentication: {
    object: {
      x509: { object: { clientCAFile: 'string' } },
      webhook: { object: { enabled: 'bool', cacheTTL: 'duration' } },
      anonymous: { object: { enabled: 'bool' } },
    },
  },
  authorization: {
    object: {
      mode: { enum: ['AlwaysAllow', 'Webhook'] },
      webhook: { object: { cacheAuthorizedTTL: 'duration', cacheUnauthorizedTTL: 'duration' } },
    },
  },
  readOnlyPort: 'int32',
  rotateCertificates: 'bool',
  serverTLSBootstrap: 'bool',
  protectKernelDefaults: 'bool',
  failSwapOn: 'bool',
  maxPods: 'int32',
  evictionHard: { map: 'string' },
  kubeReserved: { map: 'string' },
  imageGCHighThresholdPercent: 'int32',
  imageGCLowThresholdPercent: 'int32',
  containerLogMaxSize: 'string',
  containerLogMaxFiles: 'int32',
  volumePluginDir: 'string',
  registerWithTaints: { list: taint },
  address: 'string',
  tlsCipherSuites: { list: 'string' },
  eventRecordQPS: 'int32',
  nodeStatusUpdateFrequency: 'duration',
  streamingConnectionIdleTimeout: 'duration',
  runtimeRequestTimeout: 'duration',
  cgroupsPerQOS: 'bool',
  podPidsLimit: 'int64',
  enforceNodeAllocatable: { list: { enum: ['pods', 'system-reserved', 'kube-reserved', 'none'] } },
};

/** Go's time.ParseDuration syntax, as metav1.Duration reads it from YAML/JSON strings. */
const DURATION = /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/;

/** Problems of `value` against `type`, each naming the field path. */
export function validateAgainst(value: unknown, type: FieldType, path = ''): string[] {
  if (type === 'string') return typeof value === 'string' ? [] : [`${path}: expected a string, got ${JSON.stringify(value)}`];
  if (type === 'bool') return typeof value === 'boolean' ? [] : [`${path}: expected a boolean, got ${JSON.stringify(value)}`];
  if (type === 'int32') {
    return Number.isInteger(value) && (value as number) >= -(2 ** 31) && (value as number) < 2 ** 31
      ? []
      : [`${path}: expected an int32, got ${JSON.stringify(value)}`];
  }
  if (type === 'int64') return Number.isSafeInteger(value) ? [] : [`${path}: expected an int64, got ${JSON.stringify(value)}`];
  if (type === 'duration')
    return typeof value === 'string' && DURATION.test(value) ? [] : [`${path}: expected a Go duration such as "2m0s", got ${JSON.stringify(value)}`];
  if ('enum' in type) return type.enum.includes(value as string) ? [] : [`${path}: expected one of ${type.enum.join(', ')}, got ${JSON.stringify(value)}`];
  if ('list' in type) {
    if (!Array.isArray(value)) return [`${path}: expected a list`];
    return value.flatMap((v, i) => validateAgainst(v, type.list, `${path}[${i}]`));
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return [`${path}: expected an object`];
  if ('map' in type) return Object.entries(value).flatMap(([k, v]) => validateAgainst(v, type.map, `${path}.${k}`));
  return Object.entries(value).flatMap(([k, v]) => {
    const sub = type.object[k];
    const at = path ? `${path}.${k}` : k;
    return sub === undefined ? [`${at}: not a field of the type`] : validateAgainst(v, sub, at);
  });
}

/** Problems of a parsed KubeletConfiguration document. */
export function validateKubeletConfiguration(doc: unknown): string[] {
  return validateAgainst(doc, { object: KUBELET_CONFIGURATION_V1BETA1 });
}
