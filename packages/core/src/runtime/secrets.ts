import type { FlexnodeConfig } from '@flexnode/sdk';
import { readFileSync } from 'node:fs';
import type { Redactor } from '../logging/index.js';
import { underRoot } from '@flexnode/sdk';

/** Teach the redactor every secret the config points at, before anything is logged. */
export function registerConfigSecrets(redactor: Redactor, config: FlexnodeConfig, root: string): void {
  const sp = config.azure.servicePrincipal;
  redactor.add(sp?.clientSecret);
  redactor.add(process.env.AZURE_CLIENT_SECRET);
  if (sp?.clientSecretFile) {
    try {
      redactor.add(readFileSync(underRoot(root, sp.clientSecretFile), 'utf8').trim());
    } catch {
      // Unreadable here; plugin-arc reports it when it needs the secret.
    }
  }
}
