import { expect } from 'chai';
import { isRoleAssignmentExists, isAmbiguous, toAzureError } from './azure-errors.js';

const rest = (statusCode: number | undefined, code: string | undefined, message: string) =>
  Object.assign(new Error(message), { name: 'RestError', statusCode, code });

describe('azure errors', () => {
  it('401 names the credential', () => {
    const e = toAzureError(rest(401, 'InvalidAuthenticationToken', 'The access token is invalid.'), {
      action: 'read X',
      credential: 'the service principal abc',
    });
    expect(e.message).to.include('the service principal abc').and.include('rejected').and.include('read X');
    expect(e.hint).to.match(/tenantId/);
  });

  it('403 names the missing permission, the role that grants it and the scope', () => {
    const msg =
      "The client 'app-1' with object id 'obj-1' does not have authorization to perform action 'Microsoft.Authorization/roleAssignments/write' over scope '/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks/providers/Microsoft.Authorization/roleAssignments/123' or the scope is invalid. If access was recently granted, please refresh your credentials.";
    const e = toAzureError(rest(403, 'AuthorizationFailed', msg), { action: 'assign a role' });
    expect(e.message)
      .to.include("'Microsoft.Authorization/roleAssignments/write'")
      .and.include("'/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks'")
      .and.include('app-1');
    expect(e.hint)
      .to.include('User Access Administrator')
      .and.include('--scope /subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks');
  });

  it('403 on a custom role write names roleDefinitions/write and the roles that include it (not RBAC Administrator)', () => {
    const msg =
      "The client 'app-1' with object id 'obj-1' does not have authorization to perform action 'Microsoft.Authorization/roleDefinitions/write' over scope '/subscriptions/s/resourceGroups/rg' or the scope is invalid.";
    const e = toAzureError(rest(403, 'AuthorizationFailed', msg), { action: 'create the custom role' });
    expect(e.message).to.include("lacks the permission 'Microsoft.Authorization/roleDefinitions/write' on scope '/subscriptions/s/resourceGroups/rg'");
    expect(e.hint)
      .to.include('the "User Access Administrator (or Owner; Role Based Access Control Administrator does not include it)" role')
      .and.include('--role "User Access Administrator" --scope /subscriptions/s/resourceGroups/rg');
  });

  it('404 names the resource', () => {
    const e = toAzureError(
      rest(404, 'ResourceNotFound', "The Resource 'Microsoft.ContainerService/managedClusters/aks' under resource group 'rg' was not found."),
      {
        action: 'assign a role',
        resource: 'the cluster aks (resource group rg)',
      },
    );
    expect(e.message).to.include('the cluster aks (resource group rg) was not found');
  });

  it('throttling and 5xx report the status that persisted; network errors the endpoint', () => {
    expect(toAzureError(rest(429, 'SubscriptionRequestsThrottled', 'Too many'), { action: 'list' }).message)
      .to.include('HTTP 429')
      .and.include('after retries');
    expect(toAzureError(rest(503, 'ServiceUnavailable', 'down'), { action: 'list' }).message).to.include('HTTP 503');
    expect(toAzureError(rest(undefined, 'ECONNRESET', 'socket hang up'), { action: 'list', endpoint: 'https://arm' }).message).to.include(
      'could not reach Azure Resource Manager at https://arm',
    );
  });

  it("a token request whose authority does not answer names the authority, not the credential's setup", () => {
    for (const [name, message] of [
      ['CredentialUnavailableError', 'endpoints_resolution_error: See https://aka.ms/msal.js.errors#endpoints_resolution_error for details'],
      ['AuthenticationError', 'ClientSecretCredential authentication failed: getaddrinfo ENOTFOUND login.microsoftonline.com'],
      // What ClientSecretCredential.getToken throws when its authority resolves to nothing (seen with @azure/identity 4).
      ['AuthenticationRequiredError', 'network_error: Network request failed'],
      ['ClientAuthError', 'network_error: Network request failed'],
    ]) {
      const error = toAzureError(Object.assign(new Error(message), { name }), { action: 'get a token', authority: 'https://login.example' });
      expect(error.code, name).to.equal('AZURE_ENTRA_UNREACHABLE');
      expect(error.message, name).to.include('could not reach Microsoft Entra at https://login.example to get a token');
      expect(error.hint, name).to.include('azure.endpoints.authorityHost').and.not.include('clientSecretFile');
    }
    // A credential that is simply not there keeps its own code and hint.
    const missing = toAzureError(Object.assign(new Error('Azure CLI could not be found'), { name: 'CredentialUnavailableError' }), { action: 'x' });
    expect(missing.code).to.equal('AZURE_CREDENTIAL_UNAVAILABLE');
  });

  it('classifies 409 RoleAssignmentExists and ambiguous failures', () => {
    expect(isRoleAssignmentExists(rest(409, 'RoleAssignmentExists', 'The role assignment already exists.'))).to.equal(true);
    expect(isRoleAssignmentExists(rest(409, 'Conflict', 'other'))).to.equal(false);
    expect(isAmbiguous(rest(500, 'x', 'y'))).to.equal(true);
    expect(isAmbiguous(rest(undefined, 'ECONNRESET', 'y'))).to.equal(true);
    expect(isAmbiguous(rest(403, 'AuthorizationFailed', 'y'))).to.equal(false);
  });

  it('never carries a token in the message', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJvaWQiOiIxMjM0NTY3OCJ9.c2lnbmF0dXJlLXZhbHVl';
    expect(toAzureError(rest(400, 'Bad', `bad token ${jwt}`), { action: 'x' }).message).not.to.include(jwt);
  });
});
