import { isFlexnodeError, readSecretFile, underRoot, type ConfigIssue, type FlexnodeConfig } from '@flexnode/sdk';

/** What the config's credential says before anything runs: problems (exit 2) and warnings. */
export interface CredentialCheck {
  issues: ConfigIssue[];
  warnings: string[];
}

/**
 * The service principal's secret found as a run would find it (plugin-arc's order: `clientSecret`, else
 * `AZURE_CLIENT_SECRET`, else `clientSecretFile`, read under `root` with the SDK's safe reader), so that a
 * missing or unusable secret fails `config validate` and `bootstrap` before anything is written, not halfway.
 */
export async function checkCredential(config: FlexnodeConfig, options: { root: string; env: NodeJS.ProcessEnv }): Promise<CredentialCheck> {
  const sp = config.azure.servicePrincipal;
  if (!sp || sp.clientSecret || options.env.AZURE_CLIENT_SECRET) return { issues: [], warnings: [] };
  const field = 'azure.servicePrincipal.clientSecretFile';
  if (!sp.clientSecretFile) {
    return {
      issues: [
        {
          path: 'azure.servicePrincipal',
          message: 'has a clientId but no secret: set clientSecretFile (a 0600 file), the AZURE_CLIENT_SECRET environment variable, or clientSecret',
        },
      ],
      warnings: [],
    };
  }
  try {
    const { warnings } = await readSecretFile(underRoot(options.root, sp.clientSecretFile), field);
    return { issues: [], warnings };
  } catch (error) {
    if (!isFlexnodeError(error)) throw error;
    return { issues: [{ path: field, message: error.message.replace(`${field} `, '') }], warnings: [] };
  }
}
