import { ConfigError, type ConfigIssue, type FlexnodeConfig } from '@flexnode/sdk';
import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { checkCredential } from './credentials.js';
import { duplicateKeys } from './duplicate-keys.js';
import { parseConfigText } from './parse.js';
import { findPlaceholders } from './placeholders.js';
import { preloadValidator, validateConfig } from './validate.js';
import { fileIdentity, ValidationMemo, type FileIdentity } from './validation-memo.js';

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

/** A config is a few KiB; anything much larger is not one (and is not read whole into memory). */
const MAX_CONFIG_BYTES = 1 << 20;

/**
 * Read and validate the config. Placeholders are allowed only when `allowPlaceholders` (validate, plan);
 * a real bootstrap refuses them. Throws ConfigError (exit code 2) naming every bad field.
 */
export async function loadConfig(path: string, options: LoadOptions = {}): Promise<LoadedConfig> {
  const { text, identity } = await readConfigText(path);
  const data = parseConfigText(text, path);
  const placeholders = findPlaceholders(data);
  const issues = await validate(identity, data, placeholders, options.memoDir);
  if (issues.length > 0) {
    throw new ConfigError(`${path} is invalid (${issues.length} problem${issues.length > 1 ? 's' : ''}):\n${formatIssues(issues)}`, issues);
  }
  if (placeholders.length > 0 && !options.allowPlaceholders) {
    const list = placeholders.map((p) => ({ path: p, message: 'still holds a placeholder from the example; put the real value' }));
    throw new ConfigError(`${path} has placeholders to replace before a bootstrap:\n${formatIssues(list)}`, list);
  }
  const config = data as FlexnodeConfig;
  const credential = placeholders.some((p) => p.startsWith('azure.servicePrincipal'))
    ? { issues: [], warnings: [] }
    : await checkCredential(config, { root: options.root ?? '/', env: options.env ?? process.env });
  if (credential.issues.length > 0 && options.credential !== 'warn') {
    throw new ConfigError(`${path}: the service principal's secret cannot be used:\n${formatIssues(credential.issues)}`, credential.issues);
  }
  const warnings: string[] = [...credential.warnings, ...credential.issues.map((i) => `${i.path}: ${i.message}`)];
  for (const key of duplicateKeys(text)) warnings.push(`${path} gives ${key} more than once: the last one is used`);
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

export interface LoadOptions {
  /** Placeholders pass (validate, plan); a real bootstrap refuses them. */
  allowPlaceholders?: boolean;
  /** The `--root` prefix the secret file is read under, as the run reads it. Default `/`. */
  root?: string;
  /** The environment the run reads (AZURE_CLIENT_SECRET). Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /**
   * An unusable service principal secret: refused (default: bootstrap, plan, validate, the agent), or only a warning
   * (status, unbootstrap: they must work on a node whose secret was rotated away).
   */
  credential?: 'refuse' | 'warn';
  /**
   * A directory only this user can write, where the last config file that passed validation is recorded (by the
   * file's identity) so that the next run of the same file skips the schema validator (see ValidationMemo). Default:
   * none.
   */
  memoDir?: string;
}

/** The schema's issues with the config, or none when this file, unchanged, is recorded as a pass in `memoDir`. */
async function validate(
  identity: FileIdentity | undefined,
  data: unknown,
  placeholders: readonly string[],
  memoDir: string | undefined,
): Promise<ConfigIssue[]> {
  const memo = memoDir === undefined || identity === undefined ? undefined : new ValidationMemo(memoDir);
  const key = memo && (await ValidationMemo.key(identity!, placeholders));
  if (memo && key && (await memo.has(key))) return [];
  await preloadValidator();
  const issues = validateConfig(data, placeholders);
  if (memo && key && issues.length === 0 && identity!.settled) await memo.add(key);
  return issues;
}

/**
 * The file's text: a regular file of at most {@link MAX_CONFIG_BYTES}, never a device or a fifo; and its identity
 * for the validation memo (undefined when it changed during the read).
 */
async function readConfigText(path: string): Promise<{ text: string; identity?: FileIdentity }> {
  const hint = 'pass --config FILE, or create /etc/aks-flex-node/config.json';
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' || code === 'ENOTDIR' ? 'does not exist' : code === 'EACCES' ? 'is not readable (run as root?)' : `cannot be opened (${code})`;
    throw new ConfigError(`config file ${path} ${reason}`, [], hint);
  }
  try {
    const st = await handle.stat({ bigint: true });
    if (!st.isFile()) throw new ConfigError(`config file ${path} is not a regular file`, [], hint);
    if (st.size > MAX_CONFIG_BYTES)
      throw new ConfigError(`config file ${path} is ${st.size} bytes: not a flexnode config (at most ${MAX_CONFIG_BYTES})`, [], hint);
    const buffer = Buffer.alloc(MAX_CONFIG_BYTES + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    if (bytesRead > MAX_CONFIG_BYTES) throw new ConfigError(`config file ${path} is larger than ${MAX_CONFIG_BYTES} bytes: not a flexnode config`, [], hint);
    const text = buffer.subarray(0, bytesRead).toString('utf8');
    return { text, identity: fileIdentity(st, await handle.stat({ bigint: true })) };
  } finally {
    await handle.close();
  }
}

/** One line per issue: `  azure.subscriptionId: expected a GUID ...`. */
export function formatIssues(issues: readonly ConfigIssue[]): string {
  return issues.map((i) => `  ${i.path || '(root)'}: ${i.message}`).join('\n');
}
