import type { AzureCloudName, FlexnodeConfig } from '@flexnode/sdk';
import type { PreflightTargets } from './checks.js';

/** ARM endpoints of the clouds `azure.cloud` names. */
export const ARM_ENDPOINTS: Record<AzureCloudName, string> = {
  AzurePublicCloud: 'https://management.azure.com',
  AzureChinaCloud: 'https://management.chinacloudapi.cn',
  AzureUSGovernment: 'https://management.usgovcloudapi.net',
};

/** Where binaries come from without a mirror. */
export const UPSTREAM_ARTIFACT_ENDPOINT = 'https://dl.k8s.io/';

/** The endpoints preflight probes for a config (or the public cloud's without one). */
export function preflightTargets(config: FlexnodeConfig | undefined): PreflightTargets {
  const arm = config?.azure?.endpoints?.resourceManager ?? ARM_ENDPOINTS[config?.azure?.cloud ?? 'AzurePublicCloud'] ?? ARM_ENDPOINTS.AzurePublicCloud;
  const mirror = config?.artifacts?.mirror;
  return {
    azureEndpoint: `${arm.replace(/\/+$/, '')}/`,
    artifactEndpoint: mirror ? `${mirror.replace(/\/+$/, '')}/` : UPSTREAM_ARTIFACT_ENDPOINT,
    mirror: mirror !== undefined,
  };
}
