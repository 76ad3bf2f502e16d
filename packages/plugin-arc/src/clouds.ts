import type { AzureCloudName } from '@flexnode/sdk';

/** What flexnode needs to know about one Azure cloud. */
export interface CloudEndpoints {
  /** ARM endpoint, no trailing slash. */
  resourceManager: string;
  /** Microsoft Entra authority host, no trailing slash. */
  authorityHost: string;
  /** The scope ARM tokens are requested for (the ARM audience of the cloud, not the endpoint's URL). */
  armScope: string;
  /** The `--cloud` value azcmagent expects. */
  azcmagentCloud: 'AzureCloud' | 'AzureChinaCloud' | 'AzureUSGovernment';
}

/** The sovereign clouds of `azure.cloud` (upstream's spelling) and their public endpoints. */
export const CLOUDS: Record<AzureCloudName, CloudEndpoints> = {
  AzurePublicCloud: {
    resourceManager: 'https://management.azure.com',
    authorityHost: 'https://login.microsoftonline.com',
    armScope: 'https://management.azure.com/.default',
    azcmagentCloud: 'AzureCloud',
  },
  AzureChinaCloud: {
    resourceManager: 'https://management.chinacloudapi.cn',
    authorityHost: 'https://login.chinacloudapi.cn',
    armScope: 'https://management.chinacloudapi.cn/.default',
    azcmagentCloud: 'AzureChinaCloud',
  },
  AzureUSGovernment: {
    resourceManager: 'https://management.usgovcloudapi.net',
    authorityHost: 'https://login.microsoftonline.us',
    armScope: 'https://management.usgovcloudapi.net/.default',
    azcmagentCloud: 'AzureUSGovernment',
  },
};

const trim = (url: string) => url.replace(/\/+$/, '');

/**
 * The cloud's endpoints with `azure.endpoints` overrides applied. The ARM scope stays the cloud's audience: a
 * private ARM endpoint (or a test double) still accepts tokens issued for the cloud's ARM.
 */
export function cloudEndpoints(
  cloud: AzureCloudName | undefined,
  overrides: { resourceManager?: string; authorityHost?: string } = {},
): CloudEndpoints & { authorityOverridden: boolean } {
  const base = CLOUDS[cloud ?? 'AzurePublicCloud'] ?? CLOUDS.AzurePublicCloud;
  return {
    ...base,
    resourceManager: trim(overrides.resourceManager ?? base.resourceManager),
    authorityHost: trim(overrides.authorityHost ?? base.authorityHost),
    authorityOverridden: overrides.authorityHost !== undefined,
  };
}
