import { ConfigError, type FlexnodeConfig } from '@flexnode/sdk';

/** The package name, also the key of this plugin's section in `pluginConfig`. */
export const PLUGIN_NAME = '@flexnode/plugin-arc';

/** Where azcmagent comes from when it is missing (see README "Installing the agent"). */
export type AgentSource = 'apt' | 'deb' | 'binary' | 'none';

/** `pluginConfig["@flexnode/plugin-arc"]`: optional settings of this plugin. */
export interface ArcPluginConfig {
  agent?: {
    /** Default `apt`: the `azcmagent` package from Microsoft's repository (packages.microsoft.com). */
    source?: AgentSource;
    /** Agent version for `deb` and `binary` (the mirror path is `azcmagent/v<version>/<file>`). */
    version?: string;
    /** Pinned sha256 of the `.deb` or binary, per architecture or one value. Required for `deb` and `binary`. */
    sha256?: string | { amd64?: string; arm64?: string };
    /** Download URL when no mirror is configured (`artifacts.mirror` wins). */
    url?: string;
  };
  /** Azure SDK retries of throttling (429), 5xx and dropped connections. */
  retry?: { maxRetries?: number; retryDelayInMs?: number; maxRetryDelayInMs?: number };
  /** Bound of the wait for the machine's managed identity after `azcmagent connect` (default 180 s). */
  identityTimeoutSeconds?: number;
  /** Bound of the wait for new role assignments to take effect (default 300 s). */
  propagationTimeoutSeconds?: number;
  /** First delay of the polling loops (default 2000 ms; doubled up to 15 s). */
  pollIntervalMs?: number;
}

/** This plugin's section of the config, checked field by field (core's schema only knows it is an object). */
export function arcPluginConfig(config: FlexnodeConfig): ArcPluginConfig {
  const raw = (config.pluginConfig?.[PLUGIN_NAME] ?? {}) as Record<string, unknown>;
  const path = (p: string) => `pluginConfig["${PLUGIN_NAME}"].${p}`;
  const bad = (p: string, message: string) => new ConfigError(`${path(p)}: ${message}`, [{ path: path(p), message }]);
  const agent = (raw.agent ?? {}) as Record<string, unknown>;
  if (agent.source !== undefined && !['apt', 'deb', 'binary', 'none'].includes(agent.source as string)) {
    throw bad('agent.source', `expected "apt", "deb", "binary" or "none", got ${JSON.stringify(agent.source)}`);
  }
  for (const key of ['identityTimeoutSeconds', 'propagationTimeoutSeconds', 'pollIntervalMs'] as const) {
    const v = raw[key];
    if (v !== undefined && (typeof v !== 'number' || !(v >= 0))) throw bad(key, 'expected a number >= 0');
  }
  const retry = (raw.retry ?? {}) as Record<string, unknown>;
  for (const key of ['maxRetries', 'retryDelayInMs', 'maxRetryDelayInMs']) {
    const v = retry[key];
    if (v !== undefined && (typeof v !== 'number' || !(v >= 0))) throw bad(`retry.${key}`, 'expected a number >= 0');
  }
  return raw as ArcPluginConfig;
}
