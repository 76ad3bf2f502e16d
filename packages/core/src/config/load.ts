import { ConfigError, type ConfigIssue, type FlexnodeConfig } from '@flexnode/sdk';
import { readFile, stat } from 'node:fs/promises';
import { findPlaceholders } from './placeholders.js';
import { preloadValidator, validateConfig } from './validate.js';

/** The upstream tool's default location, kept so that existing installations work unchanged. */
export const DEFAULT_CONFIG_PATH = '/etc/aks-flex-node/config.json';

/** A loaded, validated config and what a person should know about it. */
export interface LoadedConfig {
  config: FlexnodeConfig;
  path: string;
  /** Fields still holding the upstream README's placeholders. */
  placeholders: string[];
  warnings: string[];
}

/** Parse JSON, turning a syntax error into a ConfigError with line and column. */
function parse(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const at = /position (\d+)/.exec(message);
    let where = '';
    if (at) {
      const before = text.slice(0, Number(at[1]));
      const line = before.split('\n').length;
      where = ` at line ${line}, column ${Number(at[1]) - before.lastIndexOf('\n')}`;
    }
    throw new ConfigError(`${path} is not valid JSON${where}: ${message}`, [{ path: '', message: 'invalid JSON' }]);
  }
}

/**
 * Read and validate the config. Placeholders are allowed only when `allowPlaceholders` (validate, plan);
 * a real bootstrap refuses them. Throws ConfigError (exit code 2) naming every bad field.
 */
export async function loadConfig(path: string, options: { allowPlaceholders?: boolean } = {}): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable (run as root?)' : (error as Error).message;
    throw new ConfigError(`config file ${path} ${reason}`, [], 'pass --config FILE, or create /etc/aks-flex-node/config.json');
  }
  const data = parse(text, path);
  const placeholders = findPlaceholders(data);
  await preloadValidator();
  const issues = validateConfig(data, placeholders);
  if (issues.length > 0) {
    throw new ConfigError(`${path} is invalid (${issues.length} problem${issues.length > 1 ? 's' : ''}):\n${formatIssues(issues)}`, issues);
  }
  if (placeholders.length > 0 && !options.allowPlaceholders) {
    const list = placeholders.map((p) => ({ path: p, message: 'still holds a placeholder from the example; put the real value' }));
    throw new ConfigError(`${path} has placeholders to replace before a bootstrap:\n${formatIssues(list)}`, list);
  }
  const config = data as FlexnodeConfig;
  const warnings: string[] = [];
  if (config.azure.servicePrincipal?.clientSecret) {
    const mode = (await stat(path)).mode & 0o777;
    if (mode & 0o077) {
      warnings.push(
        `${path} holds a client secret and is readable by others (mode ${mode.toString(8).padStart(4, '0')}): chmod 600 it, or move the secret to clientSecretFile`,
      );
    }
  }
  return { config, path, placeholders, warnings };
}

/** One line per issue: `  azure.subscriptionId: expected a GUID ...`. */
export function formatIssues(issues: readonly ConfigIssue[]): string {
  return issues.map((i) => `  ${i.path || '(root)'}: ${i.message}`).join('\n');
}
