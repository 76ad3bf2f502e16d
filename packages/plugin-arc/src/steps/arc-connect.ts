import {
  AzureError,
  FlexnodeError,
  drifted,
  missing,
  ok,
  type AzureContext,
  type CheckResult,
  type FlexnodeConfig,
  type Host,
  type StepInstance,
} from '@flexnode/sdk';
import { deleteMachine, getMachine, waitFor, type MachineRef } from '../arm.js';
import { agentConnect, agentDisconnect, agentShow, connectedTo, describeConnect, locateAgent, type AgentStatus } from '../azcmagent.js';
import { operatorToken } from '../operator.js';
import { MACHINE_RECORD } from '../paths.js';
import { arcPluginConfig } from '../plugin-config.js';
import { CONNECTED, records, type ConnectedRecord } from '../records.js';
import { arcSettings, sameId, type ArcSettings } from '../settings.js';

/** What arc.connect leaves for the arc-identity service and for people: no secret in it. */
export function machineRecordText(settings: ArcSettings, principalId: string): string {
  return `${JSON.stringify({ resourceId: settings.machineId, principalId, tenantId: settings.tenantId, location: settings.location }, null, 2)}\n`;
}

const refOf = (s: ArcSettings): MachineRef => ({ subscriptionId: s.subscriptionId, resourceGroup: s.resourceGroup, name: s.machineName });

function agentResourceId(status: AgentStatus): string | undefined {
  if (status.resourceId) return status.resourceId;
  if (!status.subscriptionId || !status.resourceGroup || !status.resourceName) return undefined;
  return `/subscriptions/${status.subscriptionId}/resourceGroups/${status.resourceGroup}/providers/Microsoft.HybridCompute/machines/${status.resourceName}`;
}

const isConnected = (status: AgentStatus | undefined) => /^connected$/i.test(status?.status ?? '');

/** The identity arc.connect recorded for the machine (MACHINE_RECORD), if the file is there and readable. */
async function recordedMachine(host: Host): Promise<{ text: string; resourceId?: string; principalId?: string } | undefined> {
  const text = await host.files.readText(MACHINE_RECORD);
  if (text === undefined) return undefined;
  try {
    return { text, ...(JSON.parse(text) as { resourceId?: string; principalId?: string }) };
  } catch {
    return { text };
  }
}

/** The operations of `arc.connect` (declared in steps.ts). */
export function arcConnectOps({ host, config, ctx }: { host: Host; config: FlexnodeConfig; ctx: AzureContext }): StepInstance {
  const timeouts = () => {
    const pc = arcPluginConfig(config);
    return { identityMs: (pc.identityTimeoutSeconds ?? 180) * 1000, pollMs: pc.pollIntervalMs ?? 2000 };
  };

  const check = async (): Promise<CheckResult> => {
    const settings = arcSettings(config);
    const command = await locateAgent(host);
    if (!command) return missing('azcmagent is not installed yet (step arc.agent)');
    const status = await agentShow(host, command);
    if (!isConnected(status)) return missing(`the machine is not connected to Azure Arc (azcmagent status: ${status.status || 'unknown'})`);
    if (!connectedTo(status, settings)) {
      return drifted(`azcmagent is connected to ${agentResourceId(status) ?? 'another resource'}, not to ${settings.machineId}`);
    }
    // Local knowledge only (the agent's own view and flexnode's record): status and the agent's cycles never need
    // the operator's credential. Only a missing record sends install to Azure for the identity.
    const recorded = await recordedMachine(host);
    const principalId = recorded?.principalId;
    if (!principalId)
      return drifted(`${MACHINE_RECORD} ${recorded ? 'does not name' : 'is missing, with'} the machine's identity (bootstrap reads it from Azure)`);
    if (recorded.text !== machineRecordText(settings, principalId)) return drifted(`${MACHINE_RECORD} is out of date for ${settings.machineId}`);
    const ours = records<ConnectedRecord>(host, CONNECTED).find((r) => sameId(r.resourceId, settings.machineId));
    if (ours?.principalId && ours.principalId !== principalId) {
      return drifted(`${MACHINE_RECORD} names the identity ${principalId}, the journal ${ours.principalId}`);
    }
    return ok(`${settings.machineName} in ${settings.resourceGroup}/${settings.location}, identity ${principalId}`);
  };

  const install = async () => {
    const settings = arcSettings(config);
    const ref = refOf(settings);
    if (!host.dryRun) await operatorToken(ctx, `arc.connect (connecting ${settings.machineName} to Azure Arc and reading its identity)`);
    const command = await locateAgent(host);
    const status = command ? await agentShow(host, command) : undefined;
    if (isConnected(status) && !connectedTo(status!, settings)) {
      throw new FlexnodeError(
        'ARC_CONNECTED_ELSEWHERE',
        `this machine is already connected to Azure Arc as ${agentResourceId(status!) ?? 'another resource'}, not as ${settings.machineId}`,
        { hint: 'flexnode does not move a connected machine: run `azcmagent disconnect` (or flexnode unbootstrap) first, or set azure.arc to that resource' },
      );
    }
    const machine = isConnected(status) ? await getMachine(ctx, ref) : undefined;
    if (isConnected(status) && !machine) {
      // The agent's local state points at a resource deleted in Azure: reset it locally, then connect again.
      if (host.dryRun) {
        await host.changes.record(`re-${describeConnect(settings)} (its resource was deleted in Azure)`, { resourceId: settings.machineId });
        return;
      }
      host.log.warn(`the machine resource ${settings.machineId} was deleted in Azure: resetting the agent and connecting again`);
      await host.exec.run(command!, ['disconnect', '--force-local-only'], { describe: 'reset the agent whose resource was deleted' });
    }
    if (!machine) {
      if (host.dryRun) {
        // Nothing is connected in a dry run: the plan shows the intent.
        await host.changes.record(describeConnect(settings), { resourceId: settings.machineId });
        return;
      }
      if (!command)
        throw new FlexnodeError('ARC_AGENT_MISSING', 'azcmagent is not installed', { hint: 'run the arc.agent step first (flexnode bootstrap does)' });
      const token = await operatorToken(ctx, `arc.connect (azcmagent connect of ${settings.machineName})`);
      // Write-ahead: if flexnode dies during the connect, unbootstrap still knows the machine may be ours.
      const record: ConnectedRecord = {
        resourceId: settings.machineId,
        machineName: settings.machineName,
        resourceGroup: settings.resourceGroup,
        subscriptionId: settings.subscriptionId,
        location: settings.location,
        phase: 'connecting',
      };
      await host.changes.record(CONNECTED, record);
      try {
        await agentConnect(host, command, settings, token);
      } catch (error) {
        const after = await agentShow(host, command).catch(() => undefined);
        if (!after || !connectedTo(after, settings)) await host.changes.forget(CONNECTED, (d) => sameId(d.resourceId as string, settings.machineId));
        throw error;
      }
      host.log.info(`connected ${settings.machineName} to Azure Arc`);
    }
    const { identityMs, pollMs } = timeouts();
    if (host.dryRun && !machine?.identity?.principalId) {
      await host.changes.record(`wait for the system-assigned identity of ${settings.machineName}`, { resourceId: settings.machineId });
      return;
    }
    const principalId = await waitFor(
      `the system-assigned identity of ${settings.machineName}`,
      async () => (await getMachine(ctx, ref))?.identity?.principalId ?? undefined,
      {
        log: host.log,
        timeoutMs: identityMs,
        intervalMs: pollMs,
        onTimeout: () =>
          new AzureError(
            `the machine resource ${settings.machineId} has no system-assigned identity after ${Math.round(identityMs / 1000)} s`,
            undefined,
            undefined,
            'check the resource in the Azure portal and `azcmagent show` on the machine; re-run bootstrap to keep waiting',
          ),
      },
    );
    const ours = records<ConnectedRecord>(host, CONNECTED).find((r) => sameId(r.resourceId, settings.machineId));
    if (!host.dryRun && ours && (ours.phase !== 'connected' || ours.principalId !== principalId)) {
      await host.changes.forget(CONNECTED, (d) => sameId(d.resourceId as string, settings.machineId));
      await host.changes.record(CONNECTED, { ...ours, phase: 'connected', principalId });
    }
    await host.files.write(MACHINE_RECORD, machineRecordText(settings, principalId), { mode: 0o644 });
  };

  const uninstall = async () => {
    for (const rec of records<ConnectedRecord>(host, CONNECTED)) {
      const ref: MachineRef = { subscriptionId: rec.subscriptionId, resourceGroup: rec.resourceGroup, name: rec.machineName };
      const token = await operatorToken(
        ctx,
        `unbootstrap of arc.connect (disconnecting ${rec.machineName} from Azure Arc and deleting its resource ${rec.resourceId})`,
      );
      const command = await locateAgent(host);
      const status = command ? await agentShow(host, command) : undefined;
      if (isConnected(status) && sameId(agentResourceId(status!), rec.resourceId)) {
        await agentDisconnect(host, command!, token, rec.machineName);
        host.log.info(`disconnected ${rec.machineName} from Azure Arc`);
      }
      // The resource can outlive the agent's connection (a forced local disconnect, a failed delete).
      if (await getMachine(ctx, ref)) {
        await deleteMachine(ctx, ref, { log: host.log, pollMs: arcPluginConfig(config).pollIntervalMs });
        host.log.info(`deleted the Arc machine resource ${rec.resourceId}`);
      }
      await host.changes.forget(CONNECTED, (d) => sameId(d.resourceId as string, rec.resourceId));
    }
    await host.changes.revert();
  };

  return { check, install, uninstall };
}
