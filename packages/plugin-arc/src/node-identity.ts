import { FlexnodeError, exemptLoopbackFromProxy, type AccessToken, type Host, type NodeIdentity } from '@flexnode/sdk';
import { arcEndpointProblem } from './arc-endpoint.js';
import { tokenExecCommand } from './exec-command.js';
import { MACHINE_RECORD } from './paths.js';
import { cachedToken } from './token-cache.js';

type ManagedIdentityCredential = import('@azure/identity').ManagedIdentityCredential;

/** Options of {@link ArcNodeIdentity}; tests pass `credentialOptions`. */
export interface NodeIdentityOptions {
  credentialOptions?: Record<string, unknown>;
  /** Whether Arc's endpoint can be asked (arc-endpoint.ts); tests pass their own. */
  endpointProblem?: () => string | undefined;
  /** The flexnode CLI entry point for {@link ArcNodeIdentity.execCredential}; default: cliEntryPoint() (exec-command.ts). */
  bin?: string;
  /** Tokens are read from (and, unless the Host is a dry run's, written to) this `flexnode token` cache; none by default. */
  cacheDir?: string;
}

/**
 * The node's own identity (capability `arc-identity`): the Arc machine's system-assigned managed identity,
 * through the local Hybrid IMDS (@azure/identity's ManagedIdentityCredential detects Arc from IDENTITY_ENDPOINT
 * and IMDS_ENDPOINT, or from /opt/azcmagent/bin/himds; never any other source: arc-endpoint.ts). With a `cacheDir` (the plugin's service passes the
 * machine's), tokens come from the cache `flexnode token` keeps, which the kubelet's exec plugin keeps warm: the
 * checks of a joined node (status, the agent's cycles) cost a file read. On a miss @azure/identity (~0.5 MB of
 * code and its HTTP stack) is imported, and the token cached unless the Host is a dry run's. The plugin's service
 * (services.ts) creates one on its first token request; `flexnode token` uses one on a cache miss.
 */
export class ArcNodeIdentity implements NodeIdentity {
  private credential?: Promise<ManagedIdentityCredential>;

  constructor(
    private readonly host: Host | undefined,
    private readonly options: NodeIdentityOptions = {},
  ) {}

  async getToken(scope: string): Promise<AccessToken> {
    const dir = this.options.cacheDir;
    if (!dir) return this.fetchToken(scope);
    return (await cachedToken(dir, scope, (s) => this.fetchToken(s), Date.now(), !this.host?.dryRun, await this.principalId())).token;
  }

  /** A new token from the identity endpoint. */
  private async fetchToken(scope: string): Promise<AccessToken> {
    // Before @azure/identity: without Arc's endpoint it would ask 169.254.169.254 (arc-endpoint.ts).
    const problem = (this.options.endpointProblem ?? arcEndpointProblem)();
    if (problem) {
      throw new FlexnodeError('ARC_IDENTITY_UNAVAILABLE', `the Arc machine identity gave no token for ${scope}: ${problem}`, {
        hint: 'connect this machine to Azure Arc first (flexnode bootstrap installs and connects the agent); `azcmagent show` tells whether it is connected',
      });
    }
    // The Azure SDK proxies every host NO_PROXY does not name, loopback included, and the agent listens on
    // 127.0.0.1: under a proxy (the kubelet's environment, an operator's shell) that would be the proxy's request.
    exemptLoopbackFromProxy(process.env);
    this.credential ??= import('@azure/identity').then(({ ManagedIdentityCredential }) => new ManagedIdentityCredential({ ...this.options.credentialOptions }));
    let token;
    try {
      token = await (await this.credential).getToken(scope);
    } catch (error) {
      throw new FlexnodeError('ARC_IDENTITY_UNAVAILABLE', `the Arc machine identity gave no token for ${scope}: ${(error as Error).message.split('\n')[0]}`, {
        hint: 'is the machine connected (azcmagent show) and the himds service running (systemctl status himdsd)? flexnode must run as root or in the himds group to read the token challenge',
      });
    }
    if (!token) throw new FlexnodeError('ARC_IDENTITY_UNAVAILABLE', `the Arc machine identity gave no token for ${scope}`);
    return { token: token.token, expiresOnTimestamp: token.expiresOnTimestamp };
  }

  async principalId(): Promise<string | undefined> {
    const text = await this.host?.files.readText(MACHINE_RECORD);
    if (!text) return undefined;
    try {
      return (JSON.parse(text) as { principalId?: string }).principalId;
    } catch {
      return undefined;
    }
  }

  /** `flexnode token --resource R` with this Node.js and the CLI's entry point (exec-command.ts). */
  execCredential(resource: string): { command: string; args: string[]; env?: Record<string, string> } {
    return tokenExecCommand(resource, this.options.bin);
  }
}
