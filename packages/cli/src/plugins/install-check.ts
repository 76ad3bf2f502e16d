import type { PluginProblem, PluginSource } from '@flexnode/core';
import type { FlexnodeConfig } from '@flexnode/sdk';
import { access } from 'node:fs/promises';

/**
 * Would flexnode leave this plugin out? Resolve every plugin as the next command would (with the config when
 * there is one: it decides between providers), the new or changed one included, and return its problems: it
 * does not load, declares an unknown API version, reuses a step id, conflicts with another installed provider,
 * needs something nothing provides. Empty when it would run.
 */
export async function leftOutProblems(name: string, sources: readonly PluginSource[], configPath: string | undefined): Promise<PluginProblem[]> {
  const { resolveSteps } = await import('@flexnode/core/plugins');
  const { resolution } = await resolveSteps(sources, await readConfig(configPath));
  return resolution.problems.filter((p) => p.plugin === name);
}

/** The config a run would read (--config, else the default file when it exists); none when absent or invalid. */
async function readConfig(path: string | undefined): Promise<FlexnodeConfig | undefined> {
  const { loadConfig, DEFAULT_CONFIG_PATH } = await import('@flexnode/core/config');
  const file = path ?? DEFAULT_CONFIG_PATH;
  if (
    !path &&
    !(await access(file).then(
      () => true,
      () => false,
    ))
  )
    return undefined;
  // An invalid config is `config validate`'s to report; the plugin is checked as if there were none.
  return loadConfig(file, { allowPlaceholders: true }).then(
    (c) => c.config,
    () => undefined,
  );
}

/** The sources after an install or link: the plugin's new entry replaces any earlier one of the same name. */
export function withSource(sources: readonly PluginSource[], added: PluginSource): PluginSource[] {
  return [...sources.filter((s) => s.name !== added.name), added];
}
