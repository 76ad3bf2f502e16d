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
    /**
     * Agent version: for `apt` the package version to pin (`apt-get install azcmagent=<version>`), for `deb` and
     * `binary` the version of the pinned download (the mirror path is `azcmagent/v<version>/<file>`).
     */
    version?: string;
    /** Pinned sha256 of the `.deb` or binary, per architecture or one value. Required for `deb` and `binary`. */
    sha256?: string | { amd64?: string; arm64?: string };
    /** Download URL when no mirror is configured (`artifacts.mirror` wins). */
    url?: string;
    /**
     * The apt repository of the `apt` source (and of the `deb` source's default URL): defaults are Microsoft's for
     * the machine's release (see agent-source.ts); set them for a mirror or an air-gapped site.
     */
    repository?: {
      /** The apt URI, e.g. `https://mirror.example/packages.microsoft.com/ubuntu/22.04/prod`. */
      url?: string;
      /** Default: the release's codename (`jammy`, `noble`, `bookworm`). */
      suite?: string;
      /** Default `main`. */
      component?: string;
      /** URL of the repository's signing key (ASCII-armored or binary OpenPGP). */
      key?: string;
      /** The signing key's fingerprint (40 or 64 hex digits, spaces allowed): checked before the key is trusted. */
      fingerprint?: string;
    };
  };
  /** Azure SDK retries of throttling (429), 5xx and dropped connections. */
  retry?: { maxRetries?: number; retryDelayInMs?: number; maxRetryDelayInMs?: number };
  /** Bound of the wait for the machine's managed identity after `azcmagent connect` (default 180 s). */
  identityTimeoutSeconds?: number;
  /** Bound of the wait for new role assignments, and for flexnode's custom roles, to take effect (default 300 s). */
  propagationTimeoutSeconds?: number;
  /** First delay of the polling loops (default 2000 ms; doubled up to 15 s). */
  pollIntervalMs?: number;
}

// Values that end up in an apt sources line, on apt's command line or in a Debian package name: the characters
// each may hold (nothing that could end a field, start a comment or an option). No userinfo in URLs: a list file
// is world-readable (credentials belong in /etc/apt/auth.conf.d).
const URL_RULE = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?(\/[A-Za-z0-9._~%+=,:/-]*)?$/;
const VERSION = /^v?[0-9][A-Za-z0-9.+~:-]*$/;
const REPOSITORY_FIELDS: [string, RegExp, string][] = [
  ['url', URL_RULE, 'an http(s) URL without credentials, spaces or #'],
  ['suite', /^[A-Za-z0-9][A-Za-z0-9._/-]*$/, 'a suite name such as jammy'],
  ['component', /^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a component name such as main'],
  ['key', URL_RULE, 'an http(s) URL of the signing key, without credentials, spaces or #'],
  ['fingerprint', /^\s*(?:[0-9A-Fa-f]{4}\s*){10}$|^\s*(?:[0-9A-Fa-f]{4}\s*){16}$/, 'an OpenPGP fingerprint: 40 or 64 hex digits, spaces allowed'],
];

/** This plugin's section of the config, checked field by field (core's schema only knows it is an object). */
export function arcPluginConfig(config: FlexnodeConfig): ArcPluginConfig {
  const raw = (config.pluginConfig?.[PLUGIN_NAME] ?? {}) as Record<string, unknown>;
  const path = (p: string) => `pluginConfig["${PLUGIN_NAME}"].${p}`;
  const bad = (p: string, message: string) => new ConfigError(`${path(p)}: ${message}`, [{ path: path(p), message }]);
  // A misspelt setting would be ignored in silence (as plugin-kube's section, its names are checked).
  const unknown = (section: Record<string, unknown>, known: readonly string[], prefix = '') => {
    const key = Object.keys(section).find((k) => !known.includes(k));
    if (key !== undefined) throw bad(`${prefix}${key}`, `is not a setting of ${PLUGIN_NAME}; known: ${known.join(', ')}`);
  };
  unknown(raw, ['agent', 'retry', 'identityTimeoutSeconds', 'propagationTimeoutSeconds', 'pollIntervalMs']);
  const agent = (raw.agent ?? {}) as Record<string, unknown>;
  if (agent.source !== undefined && !['apt', 'deb', 'binary', 'none'].includes(agent.source as string)) {
    throw bad('agent.source', `expected "apt", "deb", "binary" or "none", got ${JSON.stringify(agent.source)}`);
  }
  if (agent.version !== undefined && (typeof agent.version !== 'string' || !VERSION.test(agent.version))) {
    throw bad('agent.version', `expected a package version such as 1.50.02997.1393, got ${JSON.stringify(agent.version)}`);
  }
  const repository = (agent.repository ?? {}) as Record<string, unknown>;
  for (const [key, rule, expected] of REPOSITORY_FIELDS) {
    const v = repository[key];
    if (v !== undefined && (typeof v !== 'string' || !rule.test(v))) throw bad(`agent.repository.${key}`, `expected ${expected}, got ${JSON.stringify(v)}`);
  }
  for (const key of ['identityTimeoutSeconds', 'propagationTimeoutSeconds', 'pollIntervalMs'] as const) {
    const v = raw[key];
    if (v !== undefined && (typeof v !== 'number' || !(v >= 0))) throw bad(key, 'expected a number >= 0');
  }
  const retry = (raw.retry ?? {}) as Record<string, unknown>;
  unknown(retry, ['maxRetries', 'retryDelayInMs', 'maxRetryDelayInMs'], 'retry.');
  for (const key of ['maxRetries', 'retryDelayInMs', 'maxRetryDelayInMs']) {
    const v = retry[key];
    if (v !== undefined && (typeof v !== 'number' || !(v >= 0))) throw bad(`retry.${key}`, 'expected a number >= 0');
  }
  return raw as ArcPluginConfig;
}
