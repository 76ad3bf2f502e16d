import { ConfigError, type FlexnodeConfig } from '@flexnode/sdk';
import { PLUGIN_NAME } from './paths.js';

/** The sandbox (pause) image, as upstream's tool configures it. */
export const DEFAULT_PAUSE_IMAGE = 'mcr.microsoft.com/oss/kubernetes/pause:3.9';

/** `pluginConfig["@org/plugin-crun"]`: this plugin's own settings. */
export interface CrunSettings {
  /** The sandbox image; default `containerd.pauseImage` of the config, else upstream's. */
  pauseImage: string;
  /**
   * containerd's `restrict_oom_score_adj`: keep pods' OOM scores at containerd's own or above. For nodes that cannot
   * lower them (no CAP_SYS_RESOURCE, e.g. a node in a container), where a pod asking for a lower one fails. Default false.
   */
  restrictOOMScoreAdj: boolean;
}

const KNOWN = ['pauseImage', 'restrictOOMScoreAdj'];

// An image reference: registry/path[:tag][@sha256:digest], nothing a TOML string or a shell could misread.
const IMAGE = /^[a-z0-9]+([._\-/:][a-z0-9]+)*(:[\w][\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$/i;

/**
 * The plugin's settings from the config, checked: a wrong value is a ConfigError (exit 2) naming the field. Core's
 * schema does not know third-party settings, so the plugin validates its own.
 */
export function crunSettings(config: FlexnodeConfig): CrunSettings {
  const raw = (config.pluginConfig?.[PLUGIN_NAME] ?? {}) as Record<string, unknown>;
  const path = `pluginConfig["${PLUGIN_NAME}"]`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ConfigError(`${path} must be an object`, [{ path, message: 'expected an object' }]);
  for (const key of Object.keys(raw)) {
    if (!KNOWN.includes(key))
      throw new ConfigError(`${path}.${key} is not a setting of ${PLUGIN_NAME}`, [
        { path: `${path}.${key}`, message: `unknown setting; known: ${KNOWN.join(', ')}` },
      ]);
  }
  const restrictOOMScoreAdj = raw['restrictOOMScoreAdj'] ?? false;
  if (typeof restrictOOMScoreAdj !== 'boolean')
    throw new ConfigError(`${path}.restrictOOMScoreAdj must be true or false`, [{ path: `${path}.restrictOOMScoreAdj`, message: 'expected a boolean' }]);
  const pauseImage = raw['pauseImage'] ?? config.containerd?.pauseImage ?? DEFAULT_PAUSE_IMAGE;
  if (typeof pauseImage !== 'string' || !IMAGE.test(pauseImage)) {
    throw new ConfigError(`${path}.pauseImage is not an image reference: ${JSON.stringify(pauseImage)}`, [
      { path: `${path}.pauseImage`, message: 'expected an image reference, e.g. registry.k8s.io/pause:3.9' },
    ]);
  }
  return { pauseImage, restrictOOMScoreAdj };
}
