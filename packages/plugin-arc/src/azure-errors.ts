import { AzureError, FlexnodeError, isFlexnodeError } from '@flexnode/sdk';

/** What flexnode was doing when an Azure call failed, for a message a person can act on. */
export interface AzureCall {
  /** A verb phrase: "read the Arc machine resource node-1". */
  action: string;
  /** The ARM id or a description of the target (named by a 404). */
  resource?: string;
  /** The credential the call used (named by a 401). */
  credential?: string;
  /** The ARM endpoint (named when it cannot be reached). */
  endpoint?: string;
  /** The Entra authority a token request went to (named when it cannot be reached). */
  authority?: string;
}

/** The code of a token request whose authority could not be reached (DNS, connection, proxy): no credential is at fault. */
export const ENTRA_UNREACHABLE = 'AZURE_ENTRA_UNREACHABLE';

// What MSAL and Node say when the authority does not answer: its metadata could not be fetched, or the
// connection failed (the credential's own error names wrap these).
const NETWORK_FAILURE =
  /endpoints_resolution_error|network_error|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|socket hang up/i;

/** The fields of an @azure/core-rest-pipeline RestError (or an identity error) this module reads. */
interface ErrorLike {
  name?: string;
  message?: string;
  code?: string;
  statusCode?: number;
  details?: unknown;
  response?: { headers?: { get(name: string): string | undefined }; bodyAsText?: string | null };
}

/** Which built-in role grants an ARM action, for the hint of a 403. */
const ROLE_FOR_ACTION: [RegExp, string][] = [
  [/^microsoft\.hybridcompute\/machines\/delete$/i, 'Azure Connected Machine Resource Administrator'],
  [/^microsoft\.hybridcompute\//i, 'Azure Connected Machine Onboarding'],
  // Built-in roles documentation: User Access Administrator (Microsoft.Authorization/*) and Owner (*) include
  // roleDefinitions/write; Role Based Access Control Administrator has only roleAssignments/write and /delete.
  [
    /^microsoft\.authorization\/roledefinitions\/(write|delete)$/i,
    'User Access Administrator (or Owner; Role Based Access Control Administrator does not include it)',
  ],
  [/^microsoft\.authorization\/roleassignments\//i, 'User Access Administrator (or Role Based Access Control Administrator, or Owner)'],
  [/^microsoft\.authorization\/roledefinitions\/read$/i, 'Reader'],
  [/^microsoft\.containerservice\/managedclusters\/(read|listclusterusercredential\/action)$/i, 'Azure Kubernetes Service Cluster User Role'],
  [/^microsoft\.containerservice\//i, 'Azure Kubernetes Service Contributor Role'],
];

const AUTHZ = /does not have authorization to perform action '([^']+)' over scope '([^']+)'/i;
const CLIENT = /The client '([^']+)' with object id '([^']+)'/i;
const JWT = /eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]*/g;

export function statusOf(error: unknown): number | undefined {
  const s = (error as ErrorLike | undefined)?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

export function azureCodeOf(error: unknown): string | undefined {
  const e = error as ErrorLike | undefined;
  if (typeof e?.code === 'string') return e.code;
  return undefined;
}

/** A 409 RoleAssignmentExists: the assignment is there (success, but not ours). */
export function isRoleAssignmentExists(error: unknown): boolean {
  return statusOf(error) === 409 && /RoleAssignmentExists/i.test(`${azureCodeOf(error)} ${(error as ErrorLike)?.message}`);
}

export function isNotFound(error: unknown): boolean {
  return statusOf(error) === 404;
}

/** A failure whose outcome on the server is unknown (the request may have been applied): 5xx, 429, network. */
export function isAmbiguous(error: unknown): boolean {
  if (isFlexnodeError(error)) return false;
  const s = statusOf(error);
  return s === undefined || s >= 500 || s === 429 || s === 408;
}

/** The first sentence-ish line of an Azure message, without tokens. */
function firstLine(text: string | undefined): string {
  const line = (text ?? '').split(/\r?\n/)[0]!.trim();
  return line.replace(JWT, '[token]');
}

/** The built-in role that grants an action, if flexnode knows one. */
export function roleForAction(action: string): string | undefined {
  return ROLE_FOR_ACTION.find(([re]) => re.test(action))?.[1];
}

/** The resource part of an ARM scope (drops `/providers/Microsoft.Authorization/...` of an assignment). */
function resourceScope(scope: string): string {
  const i = scope.toLowerCase().indexOf('/providers/microsoft.authorization/');
  return i > 0 ? scope.slice(0, i) : scope;
}

/**
 * Turn any error of an Azure call into a FlexnodeError that says what failed and what to do:
 * 401 names the credential, 403 the missing permission, the role that grants it and the scope, 404 the missing
 * resource, throttling and 5xx the status that persisted after the SDK's retries, network errors the endpoint.
 * FlexnodeErrors pass through unchanged.
 */
export function toAzureError(error: unknown, call: AzureCall): FlexnodeError {
  if (isFlexnodeError(error)) return error;
  const e = (error ?? {}) as ErrorLike;
  const status = statusOf(e);
  const code = azureCodeOf(e);
  const msg = firstLine(e.message);
  // AuthenticationRequiredError is what @azure/identity gives for MSAL's network_error of a service principal.
  const credentialError = ['CredentialUnavailableError', 'AuthenticationError', 'AggregateAuthenticationError', 'AuthenticationRequiredError'].includes(
    e.name ?? '',
  );
  // A token request (call.authority) that failed for the network, whatever class MSAL or @azure/identity gave it
  // (ClientAuthError network_error too).
  if ((credentialError || call.authority !== undefined) && NETWORK_FAILURE.test(e.message ?? '')) {
    // Not the credential's fault: its hint (set a service principal, check the secret) would send the operator astray.
    return new FlexnodeError(ENTRA_UNREACHABLE, `could not reach Microsoft Entra${call.authority ? ` at ${call.authority}` : ''} to ${call.action}: ${msg}`, {
      hint: `check that this machine reaches ${call.authority ?? "the cloud's authority host"} (DNS, firewall; proxy.https in the config); azure.endpoints.authorityHost overrides the cloud's, azure.cloud picks it`,
    });
  }
  if (e.name === 'CredentialUnavailableError') {
    return new FlexnodeError('AZURE_CREDENTIAL_UNAVAILABLE', `no Azure credential to ${call.action}: ${msg}`, {
      hint: credentialHint,
    });
  }
  if (e.name === 'AuthenticationError' || e.name === 'AggregateAuthenticationError' || e.name === 'AuthenticationRequiredError') {
    return new FlexnodeError('AZURE_CREDENTIAL_REJECTED', `Microsoft Entra rejected ${call.credential ?? 'the Azure credential'} (to ${call.action}): ${msg}`, {
      hint: 'check azure.tenantId, the service principal id and its secret (or its expiry), or run `az login` again',
    });
  }
  switch (true) {
    case status === 401:
      return new AzureError(
        `Azure Resource Manager rejected the token of ${call.credential ?? 'the Azure credential'} (to ${call.action}): ${code ?? 'Unauthorized'}: ${msg}`,
        401,
        code,
        'the credential is expired, for another tenant or cloud (check azure.tenantId and azure.cloud), or revoked: renew it and re-run',
      );
    case status === 403: {
      const m = AUTHZ.exec(e.message ?? '');
      const who = CLIENT.exec(e.message ?? '');
      const principal = who ? `the client ${who[1]} (object id ${who[2]})` : (call.credential ?? 'the Azure credential');
      if (m) {
        const [, action, scope] = m as unknown as [string, string, string];
        const role = roleForAction(action);
        const target = resourceScope(scope);
        return new AzureError(
          `Azure denied ${call.action}: ${principal} lacks the permission '${action}' on scope '${target}'`,
          403,
          code,
          `grant ${principal} ${role ? `the "${role}" role` : `a role that allows ${action}`} on ${target}, e.g. az role assignment create --assignee ${who?.[2] ?? '<object id>'} --role "${role?.split(' (')[0] ?? '<role>'}" --scope ${target}; then re-run`,
        );
      }
      return new AzureError(
        `Azure denied ${call.action}: ${code ?? 'Forbidden'}: ${msg}`,
        403,
        code,
        `give ${principal} the permissions flexnode needs (plugin-arc README, "Permissions of the operator")`,
      );
    }
    case status === 404: {
      const what = call.resource ?? 'the resource';
      const detail =
        code === 'ResourceGroupNotFound'
          ? 'its resource group does not exist'
          : code === 'SubscriptionNotFound'
            ? 'the subscription does not exist or is not visible to the credential'
            : 'it does not exist';
      return new AzureError(
        `${call.action} failed: ${what} was not found (${detail}; ${code ?? 'NotFound'}: ${msg})`,
        404,
        code,
        'check the name, resource group and subscription in the config (azure.targetCluster.resourceId, azure.arc.resourceGroup, azure.subscriptionId)',
      );
    }
    case status === 429 || (status !== undefined && status >= 500):
      return new AzureError(
        `Azure Resource Manager kept answering HTTP ${status}${code ? ` ${code}` : ''} to ${call.action}, also after retries: ${msg}`,
        status,
        code,
        status === 429
          ? 'the subscription is throttled: wait a minute and re-run (bootstrap resumes where it stopped)'
          : 'an Azure-side failure: re-run later (bootstrap resumes where it stopped); https://status.azure.com',
      );
    case status === undefined:
      return new AzureError(
        `could not reach Azure Resource Manager${call.endpoint ? ` at ${call.endpoint}` : ''} to ${call.action}: ${code ? `${code}: ` : ''}${msg || 'connection failed'}`,
        undefined,
        code,
        'check the network, DNS and proxy settings (proxy.https) of this machine, then re-run',
      );
    default:
      return new AzureError(`Azure refused to ${call.action}: HTTP ${status} ${code ?? ''}: ${msg}`.replace(/ {2,}/g, ' '), status, code);
  }
}

export const credentialHint =
  'set azure.servicePrincipal.clientId with the secret in AZURE_CLIENT_SECRET, azure.servicePrincipal.clientSecretFile (mode 0600) or clientSecret; or run `az login` as this user; or run interactively on a terminal for a device code login';
