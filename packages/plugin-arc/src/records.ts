import type { Host } from '@flexnode/sdk';

/** Journal record of a machine flexnode connected (written before `azcmagent connect`, completed after). */
export interface ConnectedRecord {
  resourceId: string;
  machineName: string;
  resourceGroup: string;
  subscriptionId: string;
  location: string;
  /** `connecting` until the identity is known: uninstall treats both alike (the connect may have happened). */
  phase: 'connecting' | 'connected';
  principalId?: string;
  [key: string]: unknown;
}

/** Journal record of a role assignment flexnode created (written before the PUT: its id is chosen up front). */
export interface AssignmentRecord {
  id: string;
  scope: string;
  name: string;
  roleDefinitionId: string;
  role: string;
  principalId: string;
  [key: string]: unknown;
}

export const CONNECTED = 'arc.connected';
export const ASSIGNMENT = 'arc.role-assignment';

/** This step's custom records of a type, oldest first. */
export function records<T>(host: Host, type: string): T[] {
  return host.changes
    .list()
    .filter((c) => c.kind === 'custom' && c.type === type)
    .map((c) => (c as { data: Record<string, unknown> }).data as T);
}
