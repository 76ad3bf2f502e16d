import { FlexnodeError, isPlaceholder, readSecretFile, underRoot, type FlexnodeConfig, type Host, type Logger } from '@flexnode/sdk';
import type { AzureContextOverrides } from './azure-context.js';
import { credentialHint, toAzureError } from './azure-errors.js';

// Types only: @azure/identity costs ~200 ms to import, so it is loaded on the first token request.
type Identity = typeof import('@azure/identity');
type TokenCredential = import('@azure/identity').TokenCredential;

/** What choosing the credential needs from its ArcAzureContext (azure-context.ts, the plugin's entry). */
export interface CredentialInputs {
  config: FlexnodeConfig;
  host: Host | undefined;
  log: Logger | undefined;
  overrides: AzureContextOverrides;
  tenantId: string;
  armScope: string;
  /** Options of the @azure/identity credentials (authority, retries, overrides). */
  identityOptions: Record<string, unknown>;
}

/**
 * The operator's credential, chosen on an ArcAzureContext's first token request: the service principal of the
 * config, else the Azure CLI login, else a device code login when a person is at a terminal; else an error that
 * says how to provide one.
 */
export async function chooseCredential(inputs: CredentialInputs): Promise<{ credential: TokenCredential; name: string }> {
  const identity: Identity = await import('@azure/identity');
  const { config, tenantId, overrides, log } = inputs;
  const sp = config.azure.servicePrincipal;
  if (isPlaceholder(tenantId)) {
    throw new FlexnodeError('AZURE_CONFIG_PLACEHOLDER', `azure.tenantId still holds the placeholder "${tenantId}": no credential is used with it`);
  }
  if (sp) {
    const secret = await clientSecret(config, inputs.host, overrides.env ?? process.env);
    const name = `the service principal ${sp.clientId}`;
    return { credential: new identity.ClientSecretCredential(tenantId, sp.clientId, secret, inputs.identityOptions), name };
  }
  const cli = new identity.AzureCliCredential({ tenantId, processTimeoutInMs: 30_000 });
  try {
    await cli.getToken(inputs.armScope);
    log?.info('using the Azure CLI login');
    return { credential: cli, name: 'the Azure CLI login' };
  } catch (error) {
    if ((error as Error).name !== 'CredentialUnavailableError') {
      throw toAzureError(error, { action: 'get a token from the Azure CLI login', credential: 'the Azure CLI login' });
    }
    log?.debug(`Azure CLI login unavailable: ${(error as Error).message.split('\n')[0]}`);
  }
  const interactive = overrides.interactive ?? process.stdin.isTTY === true;
  if (!interactive) {
    throw new FlexnodeError(
      'AZURE_NO_CREDENTIAL',
      'no Azure credential: azure.servicePrincipal is not set, there is no Azure CLI login for this user, and this run is not on a terminal (a device code login needs one)',
      { hint: credentialHint },
    );
  }
  const credential = new identity.DeviceCodeCredential({
    tenantId,
    ...inputs.identityOptions,
    userPromptCallback: (info) => process.stderr.write(`${info.message}\n`),
  });
  return { credential, name: 'a device code login' };
}

/** The client secret: config, else AZURE_CLIENT_SECRET, else clientSecretFile (refused when others can read it). */
export async function clientSecret(config: FlexnodeConfig, host: Host | undefined, env: Record<string, string | undefined>): Promise<string> {
  const sp = config.azure.servicePrincipal!;
  if (sp.clientSecret) return sp.clientSecret;
  if (env.AZURE_CLIENT_SECRET) return env.AZURE_CLIENT_SECRET;
  const file = sp.clientSecretFile;
  if (file) {
    if (!host) throw new FlexnodeError('AZURE_SECRET_FILE', `cannot read azure.servicePrincipal.clientSecretFile ${file} here`);
    // Regular file, bounded, not writable by others; never blocks on a fifo or reads a device (SDK readSecretFile).
    const { secret, warnings } = await readSecretFile(underRoot(host.root, file), 'azure.servicePrincipal.clientSecretFile');
    for (const warning of warnings) host.log.warn(warning);
    return secret;
  }
  throw new FlexnodeError('AZURE_NO_CLIENT_SECRET', `azure.servicePrincipal.clientId ${sp.clientId} is set but no secret was given`, {
    hint: 'set AZURE_CLIENT_SECRET, or azure.servicePrincipal.clientSecretFile (a file of mode 0600 holding the secret)',
  });
}
