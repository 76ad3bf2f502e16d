import { readSecretFile, underRoot, urlCredentials, type FlexnodeConfig } from '@flexnode/sdk';
import type { Redactor } from '../logging/index.js';

/** Teach the redactor every secret the config points at, before anything is logged. */
export async function registerConfigSecrets(redactor: Redactor, config: FlexnodeConfig, root: string): Promise<void> {
  const sp = config.azure.servicePrincipal;
  redactor.add(sp?.clientSecret);
  redactor.add(process.env.AZURE_CLIENT_SECRET);
  // A password in any URL of the config (a mirror's, a proxy's): URLs reach logs, plans and the journal.
  for (const password of urlPasswords(config)) redactor.add(password);
  if (sp?.clientSecretFile) {
    // The same safe read as plugin-arc's (regular file, bounded): loadConfig has already refused a bad one.
    const read = await readSecretFile(underRoot(root, sp.clientSecretFile), 'azure.servicePrincipal.clientSecretFile').catch(() => undefined);
    redactor.add(read?.secret);
  }
}

/**
 * The passwords in the userinfo of every URL-looking string under `value` (the SDK's urlCredentials: both readings),
 * each as written and decoded, and the whole `user:password` (a short password alone is below what the redactor
 * takes; with its user it is not).
 */
export function urlPasswords(value: unknown): string[] {
  if (typeof value === 'string') return [...new Set(urlCredentials(value).flatMap((c) => [c.userinfo, c.password, c.decoded]))];
  if (Array.isArray(value)) return value.flatMap(urlPasswords);
  if (value && typeof value === 'object') return Object.values(value).flatMap(urlPasswords);
  return [];
}
