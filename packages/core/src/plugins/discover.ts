import { API_VERSION, SUPPORTED_API_VERSIONS, isCapability, isLegacyInject, type PluginDefinition } from '@flexnode/sdk';
import { readFile } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { serviceCapability } from './normalize.js';
import type { LoadedPlugin, PluginProblem, PluginSource } from './types.js';

export { SUPPORTED_API_VERSIONS };

/** The `flexnode` field of a plugin's package.json. */
interface FlexnodeField {
  plugin?: unknown;
}

async function readManifest(root: string): Promise<{ flexnode?: FlexnodeField; name?: string } | undefined> {
  try {
    return JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

/** Check the shape of a plugin's default export without trusting it. */
function checkDefinition(value: unknown, source: PluginSource): string | PluginDefinition {
  if (!value || typeof value !== 'object') return 'its module has no default export (expected definePlugin({...}))';
  const def = value as Partial<PluginDefinition>;
  if (typeof def.apiVersion !== 'number') return 'it declares no apiVersion';
  if (!SUPPORTED_API_VERSIONS.includes(def.apiVersion)) {
    return `it was built for plugin API version ${def.apiVersion}, this flexnode supports ${SUPPORTED_API_VERSIONS.join(', ')}; install a matching version of the plugin`;
  }
  if (!Array.isArray(def.steps)) return 'its definition has no steps array';
  for (const step of def.steps) {
    if (!step || typeof step.id !== 'string' || typeof step.create !== 'function') {
      return `a step is malformed (each needs an id and a create function): ${JSON.stringify(step?.id ?? step)}`;
    }
    for (const field of ['provides', 'after'] as const) {
      const refs: unknown = step[field];
      if (refs !== undefined && (!Array.isArray(refs) || refs.some((r) => typeof r !== 'string' && !isCapability(r)))) {
        return `step ${step.id}: ${field} must list step ids or capabilities (names or defineCapability tokens)`;
      }
    }
  }
  if (def.name !== undefined && def.name !== source.name) return `its definition is named ${def.name} but the package is ${source.name}`;
  return { ...(def as PluginDefinition), name: source.name };
}

/** What still runs but will not for long: the plugin API version 1 forms. */
function deprecations(def: PluginDefinition): string[] {
  const legacy = [
    ...def.steps.filter((s) => isLegacyInject(s.inject)).map((s) => `step ${s.id}`),
    ...(def.services ?? []).filter((s) => isLegacyInject(s.inject) || typeof s.capability === 'string').map((s) => `service ${serviceCapability(s)}`),
  ];
  const out: string[] = [];
  if (def.apiVersion < API_VERSION)
    out.push(`built for plugin API version ${def.apiVersion} (deprecated; this flexnode runs ${API_VERSION}): rebuild it against the current @flexnode/sdk`);
  if (legacy.length > 0)
    out.push(`uses the deprecated positional form of inject (${legacy.join(', ')}): use an object of tokens, e.g. inject: { host: Tokens.Host }`);
  return out;
}

/**
 * Load the flexnode plugins among oclif's plugins: those whose package.json has `flexnode.plugin`.
 * A plugin that fails to import or to pass the checks is reported and left out; the rest keep working.
 */
export async function discoverPlugins(sources: readonly PluginSource[]): Promise<{ plugins: LoadedPlugin[]; problems: PluginProblem[] }> {
  const results = await Promise.all(
    sources.map(async (source): Promise<LoadedPlugin | PluginProblem | undefined> => {
      const manifest = source.manifest ?? (await readManifest(source.root));
      const entry = manifest?.flexnode?.plugin;
      if (entry === undefined) return undefined; // an ordinary oclif plugin (e.g. plugin-plugins)
      if (typeof entry !== 'string') return { plugin: source.name, root: source.root, reason: 'package.json flexnode.plugin must be a path string' };
      const file = resolve(source.root, entry);
      if (!file.startsWith(resolve(source.root) + sep)) {
        return { plugin: source.name, root: source.root, reason: `flexnode.plugin points outside the package: ${entry}` };
      }
      let module: { default?: unknown };
      try {
        module = await import(pathToFileURL(file).href);
      } catch (error) {
        return { plugin: source.name, root: source.root, reason: `its module ${entry} failed to load: ${(error as Error).message}` };
      }
      const checked = checkDefinition(module.default, source);
      if (typeof checked === 'string') return { plugin: source.name, root: source.root, reason: checked };
      return { ...source, definition: checked, warnings: deprecations(checked) };
    }),
  );
  const plugins: LoadedPlugin[] = [];
  const problems: PluginProblem[] = [];
  for (const result of results) {
    if (!result) continue;
    if ('definition' in result) plugins.push(result);
    else problems.push(result);
  }
  return { plugins, problems };
}
