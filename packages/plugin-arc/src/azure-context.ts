import type { AccessToken, AzureContext, FlexnodeConfig, Host, Logger, TokenCredentialLike } from '@flexnode/sdk';
import { cloudEndpoints } from './clouds.js';
import { arcPluginConfig } from './plugin-config.js';

// This class is in the plugin's entry (services.ts), which every command imports: what it offers synchronously comes
// from the config here. Choosing the credential (azure-credential.ts; @azure/identity costs ~200 ms to import) and
// mapping its errors are in impl.ts, loaded with the first token request.
const impl = () => import('./impl.js');

// Types only.
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

/** How long a token request whose authority could not be reached is answered with that failure again. */
const UNREACHABLE_REUSE_MS = 60_000;

/** Default SDK retries: 429/503 honour Retry-After; 5xx and dropped connections back off exponentially. */
const DEFAULT_RETRY = { maxRetries: 4, retryDelayInMs: 1000, maxRetryDelayInMs: 30_000 };

/**
 * The operator's Azure access (capability `azure-credential`). The credential is chosen on the first token
 * request: the service principal of the config (secret from the config, AZURE_CLIENT_SECRET or a 0600
 * clientSecretFile), else the Azure CLI login, else a device code login when a person is at a terminal; a
 * non-interactive run without any of them gets an error that says how to provide one (azure-credential.ts).
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
  private readonly unreachable = new Map<string, { at: number; error: Error }>();
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
        const scope = [scopes].flat().join(' ');
        // An authority that did not answer a moment ago is not asked again by every step of the run: each ask
        // waits out the credential's retries (~9 s).
        const unreachable = this.unreachable.get(scope);
        if (unreachable && Date.now() - unreachable.at < UNREACHABLE_REUSE_MS) throw unreachable.error;
        const { credential, name } = await this.resolve();
        try {
          return await credential.getToken(scopes, options as never);
        } catch (error) {
          const { toAzureError, ENTRA_UNREACHABLE } = await impl();
          const mapped = toAzureError(error, { action: `get a token for ${scope}`, credential: name, authority: this.authorityHost });
          if (mapped.code === ENTRA_UNREACHABLE) this.unreachable.set(scope, { at: Date.now(), error: mapped });
          throw mapped;
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

  /** The credential, chosen by azure-credential.ts (loaded now). */
  private async choose(): Promise<{ credential: TokenCredential; name: string }> {
    const { chooseCredential } = await impl();
    const { config, host, log, overrides, tenantId, armScope } = this;
    return chooseCredential({ config, host, log, overrides, tenantId, armScope, identityOptions: this.identityOptions() });
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
}
