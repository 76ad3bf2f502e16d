import { AzureError, type AzureContext, type Logger } from '@flexnode/sdk';
import { credentialName } from './credential-name.js';
import { isNotFound, statusOf, toAzureError, type AzureCall } from './azure-errors.js';

// The Azure SDK clients are imported on first use: plugin.ts must load fast.
type HybridCompute = import('@azure/arm-hybridcompute').HybridComputeManagementClient;
type Authorization = import('@azure/arm-authorization').AuthorizationManagementClient;
type Machine = import('@azure/arm-hybridcompute').Machine;

export async function hybridComputeClient(ctx: AzureContext, subscriptionId = ctx.subscriptionId): Promise<HybridCompute> {
  const { HybridComputeManagementClient } = await import('@azure/arm-hybridcompute');
  return new HybridComputeManagementClient(ctx.credential as never, subscriptionId, ctx.clientOptions);
}

export async function authorizationClient(ctx: AzureContext, subscriptionId: string): Promise<Authorization> {
  const { AuthorizationManagementClient } = await import('@azure/arm-authorization');
  return new AuthorizationManagementClient(ctx.credential as never, subscriptionId, ctx.clientOptions);
}

/** Run one Azure call; any failure becomes an actionable FlexnodeError (see azure-errors.ts). */
export async function armCall<T>(ctx: AzureContext, call: AzureCall, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw toAzureError(error, { credential: credentialName(ctx), endpoint: ctx.resourceManagerEndpoint, ...call });
  }
}

/** Where an Arc machine resource is. */
export interface MachineRef {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
}

export async function getMachine(ctx: AzureContext, ref: MachineRef): Promise<Machine | undefined> {
  const { resourceGroup, name } = ref;
  const client = await hybridComputeClient(ctx, ref.subscriptionId);
  try {
    return await client.machines.get(resourceGroup, name);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw toAzureError(error, {
      action: `read the Arc machine resource ${name} in resource group ${resourceGroup}`,
      credential: credentialName(ctx),
      endpoint: ctx.resourceManagerEndpoint,
    });
  }
}

/**
 * Delete the Arc machine resource and wait until it is gone. arm-hybridcompute 3.0.0 models only the old
 * synchronous delete (200/204); the current API answers 202 with an Azure-AsyncOperation, which the SDK
 * surfaces as a RestError with statusCode 202: that is "accepted", and the operation is polled here through
 * the client's own pipeline (auth, retries) until it succeeds or fails.
 */
export async function deleteMachine(ctx: AzureContext, ref: MachineRef, options: { log?: Logger; timeoutMs?: number; pollMs?: number } = {}): Promise<void> {
  const { resourceGroup, name } = ref;
  const client = await hybridComputeClient(ctx, ref.subscriptionId);
  const call = {
    action: `delete the Arc machine resource ${name} in resource group ${resourceGroup}`,
    credential: credentialName(ctx),
    endpoint: ctx.resourceManagerEndpoint,
  };
  try {
    await client.machines.delete(resourceGroup, name);
    return;
  } catch (error) {
    if (isNotFound(error)) return;
    if (statusOf(error) !== 202) throw toAzureError(error, call);
    const headers = (error as { response?: { headers?: { get(n: string): string | undefined } } }).response?.headers;
    const operation = headers?.get('azure-asyncoperation') ?? headers?.get('location');
    options.log?.info(`deletion of the Arc machine resource ${name} accepted; waiting for it to finish`);
    await waitForOperation(client, operation, call, options, async () => (await getMachine(ctx, ref)) === undefined);
  }
}

async function waitForOperation(
  client: HybridCompute,
  operationUrl: string | undefined,
  call: AzureCall,
  options: { log?: Logger; timeoutMs?: number; pollMs?: number },
  gone: () => Promise<boolean>,
): Promise<void> {
  const { createPipelineRequest } = await import('@azure/core-rest-pipeline');
  const deadline = Date.now() + (options.timeoutMs ?? 600_000);
  let delay = options.pollMs ?? 2000;
  for (;;) {
    if (operationUrl) {
      let response;
      try {
        response = await client.sendRequest(createPipelineRequest({ url: operationUrl, method: 'GET' }));
      } catch (error) {
        throw toAzureError(error, { ...call, action: `${call.action} (status of the operation)` });
      }
      if (response.status === 200 || response.status === 201) {
        const body = JSON.parse(response.bodyAsText || '{}') as { status?: string; error?: { code?: string; message?: string } };
        if (/^succeeded$/i.test(body.status ?? '')) return;
        if (/^(failed|canceled|cancelled)$/i.test(body.status ?? '')) {
          throw new AzureError(
            `${call.action}: the operation ${body.status}: ${body.error?.code ?? ''} ${body.error?.message ?? ''}`.trim(),
            undefined,
            body.error?.code,
            'see the activity log of the resource group in the Azure portal; re-run unbootstrap to try again',
          );
        }
      } else if (response.status === 204) {
        return;
      } else if (response.status >= 400) {
        const body = JSON.parse(response.bodyAsText || '{}') as { error?: { code?: string; message?: string } };
        throw new AzureError(
          `${call.action}: the operation failed: HTTP ${response.status} ${body.error?.code ?? ''} ${body.error?.message ?? ''}`.trim(),
          response.status,
          body.error?.code,
        );
      }
    } else if (await gone()) {
      return;
    }
    if (Date.now() > deadline) {
      throw new AzureError(
        `${call.action}: still not finished after ${Math.round((options.timeoutMs ?? 600_000) / 1000)} s`,
        undefined,
        undefined,
        're-run unbootstrap later',
      );
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 15_000);
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Poll `probe` until it returns a value, with a bound and exponential backoff, logging progress so a person
 * watching knows what is awaited. Throws `onTimeout()` when the bound passes.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  options: { log?: Logger; timeoutMs: number; intervalMs: number; onTimeout: () => Error },
): Promise<T> {
  const started = Date.now();
  let delay = Math.max(options.intervalMs, 1);
  let lastLog = 0;
  for (let attempt = 1; ; attempt++) {
    const value = await probe();
    if (value !== undefined) {
      if (attempt > 1) options.log?.info(`${what}: done after ${Math.round((Date.now() - started) / 1000)} s`);
      return value;
    }
    const elapsed = Date.now() - started;
    if (elapsed >= options.timeoutMs) throw options.onTimeout();
    if (attempt === 1 || Date.now() - lastLog > 10_000) {
      options.log?.info(`waiting for ${what} (${Math.round(elapsed / 1000)} s of at most ${Math.round(options.timeoutMs / 1000)} s)`);
      lastLog = Date.now();
    }
    await sleep(Math.min(delay, Math.max(options.timeoutMs - elapsed, 1)));
    delay = Math.min(delay * 2, 15_000);
  }
}

/** What plugin-arc reads of the target cluster. */
export interface ManagedClusterFacts {
  /** The version the control plane runs (currentKubernetesVersion, else kubernetesVersion). */
  kubernetesVersion?: string;
  azureRbac: boolean;
}

/**
 * The target cluster (a GET through the client's pipeline: auth, retries; arm-containerservice is plugin-kube's),
 * with a 404 or 403 turned into an actionable error.
 */
export async function readManagedCluster(
  ctx: AzureContext,
  cluster: { id: string; name: string; resourceGroup: string; subscriptionId: string },
): Promise<ManagedClusterFacts> {
  const { createPipelineRequest } = await import('@azure/core-rest-pipeline');
  const client = await hybridComputeClient(ctx, cluster.subscriptionId);
  const call = {
    action: `read the cluster ${cluster.name}`,
    resource: `the cluster ${cluster.name} (resource group ${cluster.resourceGroup}, subscription ${cluster.subscriptionId})`,
  };
  const url = `${ctx.resourceManagerEndpoint}${cluster.id}?api-version=2024-05-01`;
  const response = await armCall(ctx, call, () => client.sendRequest(createPipelineRequest({ url, method: 'GET' })));
  if (response.status >= 400) {
    const body = JSON.parse(response.bodyAsText || '{}') as { error?: { code?: string; message?: string } };
    const error = Object.assign(new Error(body.error?.message ?? `HTTP ${response.status}`), { statusCode: response.status, code: body.error?.code });
    throw toAzureError(error, { ...call, credential: credentialName(ctx), endpoint: ctx.resourceManagerEndpoint });
  }
  const body = JSON.parse(response.bodyAsText || '{}') as {
    properties?: { aadProfile?: { enableAzureRBAC?: boolean } | null; kubernetesVersion?: string; currentKubernetesVersion?: string };
  };
  const p = body.properties ?? {};
  const version = p.currentKubernetesVersion ?? p.kubernetesVersion;
  return { ...(version ? { kubernetesVersion: version } : {}), azureRbac: p.aadProfile?.enableAzureRBAC === true };
}
