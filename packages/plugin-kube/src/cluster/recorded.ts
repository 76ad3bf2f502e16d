import { AzureError, FlexnodeError, findRecord, isFlexnodeError, replaceRecord, type AzureContext, type FlexnodeConfig, type Host } from '@flexnode/sdk';
import type { ClusterFacts, ClusterReader } from './cluster.js';

/** Custom record: the cluster's facts a step installed with (server, CA, version, network profile, ...). */
export const FACTS_RECORD = 'cluster-facts';

/**
 * The cluster's facts for a step: those it recorded when it installed, so that its check (and `status`, the
 * agent's cycle, a heal) work without the operator's credential; else read from ARM with it, which only the first
 * install (or a config naming another cluster) needs. A failed read says which step needed it and why.
 */
export async function clusterFacts(
  host: Host,
  config: FlexnodeConfig,
  azure: AzureContext | undefined,
  read: ClusterReader,
  who: string,
): Promise<ClusterFacts> {
  const recorded = recordedFacts(host, config);
  if (recorded) return recorded;
  try {
    return await read(azure, config);
  } catch (error) {
    // Azure failures (no credential, 403, ...): say who needed Azure, and that only this first read does.
    if (!isFlexnodeError(error) || !error.code.startsWith('AZURE')) throw error;
    const message = `${who} reads the cluster once with the operator's Azure credential (nothing is recorded yet): ${error.message}`;
    throw error instanceof AzureError
      ? new AzureError(message, error.statusCode, error.azureCode, error.hint)
      : new FlexnodeError(error.code, message, { hint: error.hint, cause: error });
  }
}

/** The facts this step recorded, when they are of the cluster the config names now. */
export function recordedFacts(host: Host, config: FlexnodeConfig): ClusterFacts | undefined {
  const recorded = findRecord<ClusterFacts>(host, FACTS_RECORD);
  const wanted = config.azure?.targetCluster?.resourceId ?? '';
  return recorded && recorded.resourceId.toLowerCase() === wanted.toLowerCase() ? recorded : undefined;
}

/** Record the facts the step installed with (the journal changes only when they differ). */
export const rememberFacts = (host: Host, facts: ClusterFacts): Promise<void> => replaceRecord(host, FACTS_RECORD, facts);
