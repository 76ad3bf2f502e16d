import { readSecretFile, underRoot, type FlexnodeConfig } from '@flexnode/sdk';
import type { Redactor } from '../logging/index.js';

/** Teach the redactor every secret the config points at, before anything is logged. */
export async function registerConfigSecrets(redactor: Redactor, config: FlexnodeConfig, root: string): Promise<void> {
  const sp = config.azure.servicePrincipal;
  redactor.add(sp?.clientSecret);
  redactor.add(process.env.AZURE_CLIENT_SECRET);
  if (sp?.clientSecretFile) {
    // The same safe read as plugin-arc's (regular file, bounded): loadConfig has already refused a bad one.
    const read = await readSecretFile(underRoot(root, sp.clientSecretFile), 'azure.servicePrincipal.clientSecretFile').catch(() => undefined);
    redactor.add(read?.secret);
  }
}
