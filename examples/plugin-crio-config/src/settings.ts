import { ConfigError, type FlexnodeConfig } from '@flexnode/sdk';
import { PLUGIN_NAME } from './paths.js';

/** What the drop-in sets, from `pluginConfig["@org/plugin-crio-config"]` and upstream's `containerd.pauseImage`. */
export interface CrioSettings {
  pauseImage: string;
  /** The OCI runtime CRI-O runs containers with: one its own config defines (`crun` on most packages, or `runc`). */
  defaultRuntime: string;
}

export const DEFAULT_PAUSE_IMAGE = 'mcr.microsoft.com/oss/kubernetes/pause:3.9';
const IMAGE = /^[a-z0-9]+([._\-/:][a-z0-9]+)*(:[\w][\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$/i;
const NAME = /^[a-z0-9][a-z0-9_-]*$/;

/** The settings, checked: a wrong value is a ConfigError (exit 2) naming the field. */
export function crioSettings(config: FlexnodeConfig): CrioSettings {
  const raw = (config.pluginConfig?.[PLUGIN_NAME] ?? {}) as Record<string, unknown>;
  const at = (key: string) => `pluginConfig["${PLUGIN_NAME}"].${key}`;
  for (const key of Object.keys(raw)) {
    if (key !== 'pauseImage' && key !== 'defaultRuntime')
      throw new ConfigError(`${at(key)} is not a setting of ${PLUGIN_NAME}`, [{ path: at(key), message: 'known: pauseImage, defaultRuntime' }]);
  }
  const pauseImage = raw['pauseImage'] ?? config.containerd?.pauseImage ?? DEFAULT_PAUSE_IMAGE;
  if (typeof pauseImage !== 'string' || !IMAGE.test(pauseImage))
    throw new ConfigError(`${at('pauseImage')} is not an image reference`, [{ path: at('pauseImage'), message: 'expected e.g. registry.k8s.io/pause:3.10' }]);
  const defaultRuntime = raw['defaultRuntime'] ?? 'crun';
  if (typeof defaultRuntime !== 'string' || !NAME.test(defaultRuntime))
    throw new ConfigError(`${at('defaultRuntime')} is not a runtime name`, [
      { path: at('defaultRuntime'), message: 'expected a name CRI-O knows, e.g. crun or runc' },
    ]);
  return { pauseImage, defaultRuntime };
}
