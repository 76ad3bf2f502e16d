// A node after a full bootstrap, as plugin-arc left it (the machine record, the journal's records, the agent
// connected), for tests of what works without the operator's credential. Shared by offline-checks.test.ts and its
// child process.
import { capabilityToken, FlexnodeError, type AccessToken, type AzureContext, type FlexnodeConfig } from '@flexnode/sdk';
import { MemoryHost, testConfig } from '@flexnode/sdk/testing';
import { AGENT_PATH } from '../azcmagent.js';
import { MACHINE_RECORD } from '../paths.js';
import { nodeComponents } from '../node-role/components.js';
import { nodeRoleIdentities } from '../node-role/definitions.js';
import { configuredRoles, configuredRoleNames, BUILTIN_ROLES } from '../roles.js';
import { arcSettings } from '../settings.js';
import { machineRecordText } from './arc-connect.js';
import { ROLE_DEFINITION } from './arc-node-role.js';

export const PRINCIPAL = '0f0e0d0c-0b0a-0908-0706-050403020100';

/** The operator's credential as a node without one has it: every token request fails (and is counted). */
export class NoOperator implements AzureContext {
  calls = 0;
  readonly subscriptionId: string;
  readonly tenantId: string;
  readonly resourceManagerEndpoint = 'https://127.0.0.1:9';
  readonly armScope = 'https://management.azure.com/.default';
  readonly clientOptions = { endpoint: 'https://127.0.0.1:9' };
  readonly credential = {
    getToken: async (): Promise<AccessToken | null> => {
      this.calls++;
      throw new FlexnodeError(
        'AZURE_NO_CREDENTIAL',
        'no Azure credential: azure.servicePrincipal is not set, there is no Azure CLI login for this user, and this run is not on a terminal',
        {
          hint: 'set azure.servicePrincipal.clientId ...',
        },
      );
    },
  };
  constructor(config: FlexnodeConfig) {
    this.subscriptionId = config.azure.subscriptionId;
    this.tenantId = config.azure.tenantId;
  }
  describeCredential(): string {
    return 'the Azure credential (Azure CLI login or device code)';
  }
}

/** A joined node: the agent connected to the configured machine, arc.connect's and arc.roles' records in place. */
export function joinedNode(options: { rolesRecorded?: boolean } = {}) {
  const config = testConfig();
  const settings = arcSettings(config);
  const host = new MemoryHost().seedFile(AGENT_PATH, '#!/bin/sh\n', 0o755).seedFile(MACHINE_RECORD, machineRecordText(settings, PRINCIPAL));
  host.onExec(AGENT_PATH, (args) =>
    args[0] === 'show'
      ? { exitCode: 0, stdout: JSON.stringify({ status: 'Connected', resourceId: settings.machineId, resourceName: settings.machineName }), stderr: '' }
      : { exitCode: 0, stdout: 'azcmagent version 1.50.02997.1393\n', stderr: '' },
  );
  host.journal.set('arc.connect', [
    {
      kind: 'custom',
      type: 'arc.connected',
      data: {
        resourceId: settings.machineId,
        machineName: settings.machineName,
        resourceGroup: settings.resourceGroup,
        subscriptionId: settings.subscriptionId,
        location: settings.location,
        phase: 'connected',
        principalId: PRINCIPAL,
      },
    },
  ]);
  const assignment = {
    id: `${settings.cluster.id}/providers/Microsoft.Authorization/roleAssignments/11111111-1111-1111-1111-111111111111`,
    scope: settings.cluster.id,
    name: '11111111-1111-1111-1111-111111111111',
    roleDefinitionId: `/subscriptions/${settings.cluster.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${BUILTIN_ROLES['Azure Kubernetes Service RBAC Admin']}`,
    role: 'Azure Kubernetes Service RBAC Admin',
    principalId: PRINCIPAL,
  };
  const granted = {
    principalId: PRINCIPAL,
    scope: settings.cluster.id,
    configured: configuredRoleNames(config),
    roles: configuredRoles(config, settings.cluster).known.map((r) => ({ name: r.name, guid: r.guid, scope: r.scope })),
  };
  host.journal.set(
    'arc.node-role',
    nodeRoleIdentities(settings.cluster, nodeComponents(config)).map((d) => ({
      kind: 'custom' as const,
      type: ROLE_DEFINITION,
      data: {
        id: `${d.assignableScope}/providers/Microsoft.Authorization/roleDefinitions/${d.guid}`,
        guid: d.guid,
        roleName: d.roleName,
        assignableScope: d.assignableScope,
        clusterId: settings.cluster.id,
        kubernetesMinor: '1.35',
        dataActions: [],
      },
    })),
  );
  host.journal.set('arc.roles', [
    { kind: 'custom', type: 'arc.role-assignment', data: assignment },
    ...(options.rolesRecorded === false ? [] : [{ kind: 'custom' as const, type: 'arc.roles-granted', data: granted }]),
  ]);
  const operator = new NoOperator(config);
  const services = new Map<symbol, unknown>([
    [capabilityToken('azure-credential'), operator],
    [capabilityToken('arc-identity'), undefined],
  ]);
  return { config, settings, host, operator, services };
}
