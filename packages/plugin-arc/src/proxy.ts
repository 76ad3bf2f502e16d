import { noProxyMatches, urlCredentials, type FlexnodeConfig, type ProxyConfig } from '@flexnode/sdk';
import { cloudEndpoints } from './clouds.js';

/** What the Arc agent is told about the config's proxy (`azcmagent config set proxy.url / proxy.bypass`). */
export interface AgentProxy {
  /** The proxy server, or undefined when the config has none. */
  url?: string;
  /** Services that skip the proxy, sorted: `AAD`, `ARM`, `Arc`. */
  bypass: string[];
}

/**
 * The hosts behind each `proxy.bypass` service name, from the table in Microsoft's "Manage and maintain the
 * Connected Machine agent" (MicrosoftDocs/azure-docs articles/azure-arc/servers/manage-agent.md, "Proxy bypass for
 * private endpoints"), public cloud. A service is bypassed when NO_PROXY covers every one of its hosts.
 * (`ArcData`, the SQL Server endpoints, is not flexnode's business.)
 */
const BYPASS_HOSTS: Record<string, readonly string[]> = {
  AAD: ['login.windows.net', 'login.microsoftonline.com', 'pas.windows.net'],
  ARM: ['management.azure.com'],
  // Regional subdomains are what the agent talks to (gbl.his.arc.azure.com, <region>.his.arc.azure.com).
  Arc: ['gbl.his.arc.azure.com', 'agentserviceapi.guestconfiguration.azure.com'],
};

/** The proxy the Arc agent must use (the config's https proxy, else its http one) and what may skip it. */
export function agentProxy(config: FlexnodeConfig): AgentProxy {
  const proxy = config.proxy;
  const url = proxy?.https ?? proxy?.http;
  if (!url) return { bypass: [] };
  const hosts: Record<string, readonly string[]> =
    (config.azure.cloud ?? 'AzurePublicCloud') === 'AzurePublicCloud' && !config.azure.endpoints ? BYPASS_HOSTS : sovereignBypassHosts(config);
  const bypass = Object.entries(hosts)
    .filter(([, names]) => names.length > 0 && names.every((n) => noProxyMatches(proxy?.noProxy, n)))
    .map(([service]) => service)
    .sort();
  return { url, bypass };
}

/** Outside the public cloud only ARM and Entra have hosts flexnode knows (the configured endpoints). */
function sovereignBypassHosts(config: FlexnodeConfig): Record<string, readonly string[]> {
  const cloud = cloudEndpoints(config.azure.cloud, config.azure.endpoints);
  return { AAD: [new URL(cloud.authorityHost).hostname], ARM: [new URL(cloud.resourceManager).hostname] };
}

/**
 * apt options that send requests for `urls` through the config's proxy (`Acquire::http(s)::Proxy`), or straight
 * to hosts NO_PROXY names (`Acquire::https::Proxy::<host> "DIRECT"`). Without a proxy in the config, apt keeps its
 * own settings (apt.conf, http_proxy).
 */
export function aptProxyOptions(proxy: ProxyConfig | undefined, urls: readonly string[]): string[] {
  const options: string[] = [];
  for (const scheme of ['http', 'https'] as const) {
    const chosen = scheme === 'https' ? (proxy?.https ?? proxy?.http) : proxy?.http;
    if (!chosen) continue;
    options.push('-o', `Acquire::${scheme}::Proxy=${chosen}`);
    const direct = new Set(
      urls
        .map((u) => new URL(u))
        .filter((u) => u.protocol === `${scheme}:` && noProxyMatches(proxy?.noProxy, u.hostname))
        .map((u) => u.hostname),
    );
    for (const host of direct) options.push('-o', `Acquire::${scheme}::Proxy::${host}=DIRECT`);
  }
  return options;
}

/** The password in a proxy URL, for redaction (a proxy URL on a command line may carry credentials): both readings. */
export function proxySecrets(proxy: ProxyConfig | undefined): string[] {
  const urls = [proxy?.http, proxy?.https].filter((u): u is string => !!u);
  return [...new Set(urls.flatMap((u) => urlCredentials(u).flatMap((c) => [c.decoded, c.password])))];
}
