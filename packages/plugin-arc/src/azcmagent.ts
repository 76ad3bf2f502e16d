import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecError, FlexnodeError, isFlexnodeError, underRoot, type Host } from '@flexnode/sdk';
import type { ArcSettings } from './settings.js';
import { sameId } from './settings.js';

/** Where Microsoft's package (and flexnode's `binary` source) puts the agent CLI. */
export const AGENT_PATH = '/opt/azcmagent/bin/azcmagent';

/** What `azcmagent show -j` reports (the fields flexnode reads). */
export interface AgentStatus {
  status: string;
  resourceName?: string;
  resourceGroup?: string;
  resourceId?: string;
  subscriptionId?: string;
  tenantId?: string;
  location?: string;
  cloud?: string;
  agentVersion?: string;
}

/**
 * The command to run azcmagent with, or undefined when it is not installed: the agent's own path on the machine
 * (under the Host's root), else `azcmagent` from PATH.
 */
export async function locateAgent(host: Host): Promise<string | undefined> {
  const installed = await host.files.stat(AGENT_PATH);
  if (installed?.type === 'file' || installed?.type === 'symlink') return underRoot(host.root, AGENT_PATH);
  return (await host.exec.which('azcmagent')) ? 'azcmagent' : undefined;
}

/** `azcmagent show -j`: read-only, so it runs in checks and dry runs too. */
export async function agentShow(host: Host, command: string): Promise<AgentStatus> {
  const result = await host.exec.run(command, ['show', '-j'], { mutates: false, timeoutMs: 60_000, allowFailure: true });
  if (result.exitCode !== 0) {
    throw new FlexnodeError('ARC_AGENT_SHOW', `azcmagent show failed (exit ${result.exitCode}): ${lastLine(result.stderr || result.stdout)}`, {
      hint: 'check the agent: `azcmagent show`, `systemctl status himdsd`',
    });
  }
  try {
    return JSON.parse(result.stdout) as AgentStatus;
  } catch {
    throw new FlexnodeError('ARC_AGENT_SHOW', `azcmagent show -j printed something that is not JSON: ${lastLine(result.stdout)}`);
  }
}

/** Whether the agent is connected to exactly this machine resource. */
export function connectedTo(status: AgentStatus, settings: ArcSettings): boolean {
  if (!/^connected$/i.test(status.status ?? '')) return false;
  if (status.resourceId) return sameId(status.resourceId, settings.machineId);
  return (
    (status.resourceName ?? '').toLowerCase() === settings.machineName.toLowerCase() &&
    (status.resourceGroup ?? '').toLowerCase() === settings.resourceGroup.toLowerCase() &&
    (status.subscriptionId ?? '').toLowerCase() === settings.subscriptionId.toLowerCase()
  );
}

/** One line a person can read from a child tool's output (its last error line). */
export function lastLine(text: string): string {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  const error = [...lines].reverse().find((l) => /^(error|fatal)\b/i.test(l));
  return (error ?? lines.at(-1) ?? '(no output)').slice(0, 500);
}

/**
 * Run azcmagent with a secret passed through `--config FILE` (JSON, keys are flag names) instead of argv, where
 * every user could read it in /proc. The file lives in a fresh private directory (mkdtemp, 0700; the file 0600)
 * and is deleted as soon as the command ends. It is written outside the Host on purpose: a transient secret
 * must never reach the journal, a backup or a plan.
 */
export async function withSecretConfig<T>(secrets: Record<string, string>, fn: (file: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'flexnode-arc-'));
  try {
    const file = join(dir, 'azcmagent.json');
    await writeFile(file, JSON.stringify(secrets), { mode: 0o600, flag: 'wx' });
    return await fn(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The argv of `azcmagent connect` (no secret in it). */
export function connectArgs(settings: ArcSettings): string[] {
  const args = [
    'connect',
    '--resource-group',
    settings.resourceGroup,
    '--tenant-id',
    settings.tenantId,
    '--location',
    settings.location,
    '--subscription-id',
    settings.subscriptionId,
    '--resource-name',
    settings.machineName,
    '--cloud',
    settings.cloud,
  ];
  const tags = Object.entries(settings.tags)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  if (tags) args.push('--tags', tags);
  return args;
}

export function describeConnect(settings: ArcSettings): string {
  return `connect machine ${settings.machineName} to Azure Arc in ${settings.resourceGroup}/${settings.location}`;
}

/** `azcmagent connect` authenticated with an ARM access token passed through a private config file. */
export async function agentConnect(host: Host, command: string, settings: ArcSettings, accessToken: string): Promise<void> {
  await withSecretConfig({ 'access-token': accessToken }, async (file) => {
    try {
      await host.exec.run(command, [...connectArgs(settings), '--config', file], {
        secrets: [accessToken],
        timeoutMs: 10 * 60_000,
        describe: describeConnect(settings),
      });
    } catch (error) {
      throw agentError('connect', error, `the machine was not connected; fix the cause and re-run`);
    }
  });
}

/** `azcmagent disconnect` (deletes the machine resource too), with a token through a private config file. */
export async function agentDisconnect(host: Host, command: string, accessToken: string, resource: string): Promise<void> {
  await withSecretConfig({ 'access-token': accessToken }, async (file) => {
    try {
      await host.exec.run(command, ['disconnect', '--config', file], {
        secrets: [accessToken],
        timeoutMs: 10 * 60_000,
        describe: `disconnect machine ${resource} from Azure Arc`,
      });
    } catch (error) {
      throw agentError('disconnect', error, 're-run unbootstrap; `azcmagent disconnect --force-local-only` disconnects without Azure');
    }
  });
}

function agentError(what: string, error: unknown, hint: string): FlexnodeError {
  if (error instanceof ExecError || (isFlexnodeError(error) && error.code === 'EXEC_FAILED')) {
    const e = error as ExecError;
    const text = e.stderr ?? e.message;
    const known = /AZCM0041|credentials supplied are invalid/i.test(text)
      ? 'the access token was refused: check the operator credential'
      : /AZCM0042|authorization failed/i.test(text)
        ? 'the operator credential needs the "Azure Connected Machine Onboarding" role on the resource group'
        : /AZCM0026|network/i.test(text)
          ? 'the agent cannot reach Azure: check the network and proxy (azcmagent check)'
          : hint;
    return new FlexnodeError('ARC_AGENT_FAILED', `azcmagent ${what} failed: ${lastLine(text)}`, { hint: known, cause: error });
  }
  return error as FlexnodeError;
}
