import {
  FlexnodeError,
  isPlaceholder,
  readSecretFile,
  underRoot,
  type AccessToken,
  type AzureContext,
  type FlexnodeConfig,
  type Host,
  type Logger,
  type TokenCredentialLike,
} from '@flexnode/sdk';
import { cloudEndpoints } from './clouds.js';
import { arcPluginConfig } from './plugin-config.js';

// Loaded with the first token request, like @azure/identity: plugin.ts imports this module and must stay light.
const errors = () => import('./azure-errors.js');

// Types only: @azure/identity costs ~200 ms to import, so it is loaded on the first token request.
type Identity = typeof import('@azure/identity');
type TokenCredential = import('@azure/identity').TokenCredential;

/** Extensions of the context for callers that must route the SDK through something (tests trust a fake CA). */
export interface AzureContextOverrides {
  /** Merged into `clientOptions` (e.g. `additionalPolicies`). */
  clientOptions?: Record<string, unknown>;
  /** Merged into the options of the @azure/identity credentials (e.g. `additionalPolicies`). */
  credentialOptions?: Record<string, unknown>;
  /** Whether a person is at a terminal (device code login); default `process.stdin.isTTY`. */
  interactive?: boolean;
  /** Environment for secrets (AZURE_CLIENT_SECRET); default `process.env`. */
  env?: Record<string, string | undefined>;
}

/** Default SDK retries: 429/503 honour Retry-After; 5xx and dropped connections back off exponentially. */
const DEFAULT_RETRY = { maxRetries: 4, retryDelayInMs: 1000, maxRetryDelayInMs: 30_000 };

/**
 * The operator's Azure access (capability `azure-credential`). The credential is chosen on the first token
 * request: the service principal of the config (secret from the config, AZURE_CLIENT_SECRET or a 0600
 * clientSecretFile), else the Azure CLI login, else a device code login when a person is at a terminal; a
 * non-interactive run without any of them gets an error that says how to provide one.
 */
export class ArcAzureContext implements AzureContext {
  readonly credential: TokenCredentialLike;
  readonly subscriptionId: string;
  readonly tenantId: string;
  readonly resourceManagerEndpoint: string;
  readonly armScope: string;
  readonly clientOptions: Record<string, unknown>;
  private readonly authorityHost: string;
  private readonly authorityOverridden: boolean;
  private active?: Promise<{ credential: TokenCredential; name: string }>;
  private activeName?: string;

  constructor(
    private readonly config: FlexnodeConfig,
    private readonly host: Host | undefined,
    private readonly log: Logger | undefined,
    private readonly overrides: AzureContextOverrides = {},
  ) {
    const azure = config.azure;
    const cloud = cloudEndpoints(azure.cloud, azure.endpoints);
    this.subscriptionId = azure.subscriptionId;
    this.tenantId = azure.servicePrincipal?.tenantId ?? azure.tenantId;
    this.resourceManagerEndpoint = cloud.resourceManager;
    this.armScope = cloud.armScope;
    this.authorityHost = cloud.authorityHost;
    this.authorityOverridden = cloud.authorityOverridden;
    let retry = DEFAULT_RETRY;
    try {
      retry = { ...DEFAULT_RETRY, ...arcPluginConfig(config).retry };
    } catch {
      // reported by the steps, which validate the plugin config
    }
    this.clientOptions = {
      endpoint: cloud.resourceManager,
      // Without it the authorization client asks for a token for the endpoint's URL (shared/azure.md).
      credentialScopes: [cloud.armScope],
      retryOptions: retry,
      userAgentOptions: { userAgentPrefix: 'flexnode' },
      ...overrides.clientOptions,
    };
    this.credential = {
      getToken: async (scopes: string | string[], options?: unknown): Promise<AccessToken | null> => {
        const { credential, name } = await this.resolve();
        try {
          return await credential.getToken(scopes, options as never);
        } catch (error) {
          throw (await errors()).toAzureError(error, { action: `get a token for ${[scopes].flat().join(' ')}`, credential: name });
        }
      },
    };
  }

  /** Which credential is in use ("service principal <id>", "the Azure CLI login", ...), for messages. */
  describeCredential(): string {
    if (this.activeName) return this.activeName;
    const sp = this.config.azure.servicePrincipal;
    return sp ? `the service principal ${sp.clientId}` : 'the Azure credential (Azure CLI login or device code)';
  }

  private resolve(): Promise<{ credential: TokenCredential; name: string }> {
    this.active ??= this.choose().then(
      (r) => {
        this.activeName = r.name;
        return r;
      },
      (error) => {
        this.active = undefined; // a later call may succeed (az login in between)
        throw error;
      },
    );
    return this.active;
  }

  private identityOptions(): Record<string, unknown> {
    return {
      authorityHost: this.authorityHost,
      // A custom authority (sovereign, private, or a test double) is not in MSAL's public discovery list.
      ...(this.authorityOverridden ? { disableInstanceDiscovery: true } : {}),
      retryOptions: this.clientOptions.retryOptions,
      ...this.overrides.credentialOptions,
    };
  }

  private async choose(): Promise<{ credential: TokenCredential; name: string }> {
    const identity: Identity = await import('@azure/identity');
    const { credentialHint, toAzureError } = await errors();
    const sp = this.config.azure.servicePrincipal;
    if (isPlaceholder(this.tenantId)) {
      throw new FlexnodeError('AZURE_CONFIG_PLACEHOLDER', `azure.tenantId still holds the placeholder "${this.tenantId}": no credential is used with it`);
    }
    if (sp) {
      const secret = await this.clientSecret();
      const name = `the service principal ${sp.clientId}`;
      return { credential: new identity.ClientSecretCredential(this.tenantId, sp.clientId, secret, this.identityOptions()), name };
    }
    const cli = new identity.AzureCliCredential({ tenantId: this.tenantId, processTimeoutInMs: 30_000 });
    try {
      await cli.getToken(this.armScope);
      this.log?.info('using the Azure CLI login');
      return { credential: cli, name: 'the Azure CLI login' };
    } catch (error) {
      if ((error as Error).name !== 'CredentialUnavailableError') {
        throw toAzureError(error, { action: 'get a token from the Azure CLI login', credential: 'the Azure CLI login' });
      }
      this.log?.debug(`Azure CLI login unavailable: ${(error as Error).message.split('\n')[0]}`);
    }
    const interactive = this.overrides.interactive ?? process.stdin.isTTY === true;
    if (!interactive) {
      throw new FlexnodeError(
        'AZURE_NO_CREDENTIAL',
        'no Azure credential: azure.servicePrincipal is not set, there is no Azure CLI login for this user, and this run is not on a terminal (a device code login needs one)',
        { hint: credentialHint },
      );
    }
    const credential = new identity.DeviceCodeCredential({
      tenantId: this.tenantId,
      ...this.identityOptions(),
      userPromptCallback: (info) => process.stderr.write(`${info.message}\n`),
    });
    return { credential, name: 'a device code login' };
  }

  /** The client secret: config, else AZURE_CLIENT_SECRET, else clientSecretFile (refused when others can read it). */
  private async clientSecret(): Promise<string> {
    const sp = this.config.azure.servicePrincipal!;
    if (sp.clientSecret) return sp.clientSecret;
    const env = (this.overrides.env ?? process.env).AZURE_CLIENT_SECRET;
    if (env) return env;
    const file = sp.clientSecretFile;
    if (file) {
      if (!this.host) throw new FlexnodeError('AZURE_SECRET_FILE', `cannot read azure.servicePrincipal.clientSecretFile ${file} here`);
      // Regular file, bounded, not writable by others; never blocks on a fifo or reads a device (SDK readSecretFile).
      const { secret, warnings } = await readSecretFile(underRoot(this.host.root, file), 'azure.servicePrincipal.clientSecretFile');
      for (const warning of warnings) this.host.log.warn(warning);
      return secret;
    }
    throw new FlexnodeError('AZURE_NO_CLIENT_SECRET', `azure.servicePrincipal.clientId ${sp.clientId} is set but no secret was given`, {
      hint: 'set AZURE_CLIENT_SECRET, or azure.servicePrincipal.clientSecretFile (a file of mode 0600 holding the secret)',
    });
  }
}

/** The name of the credential a context uses, for messages (works for any AzureContext). */
export function credentialName(ctx: AzureContext): string {
  const describe = (ctx as { describeCredential?: () => string }).describeCredential;
  return typeof describe === 'function' ? describe.call(ctx) : 'the Azure credential';
}
