import { findRecord, type FlexnodeConfig, type Host } from '@flexnode/sdk';
import { lastLine } from './azcmagent.js';
import { agentProxy, proxySecrets, type AgentProxy } from './proxy.js';

/**
 * The config's proxy on the Arc agent, through `azcmagent config get/set/clear proxy.url|proxy.bypass`
 * (learn.microsoft.com/azure/azure-arc/servers/azcmagent-config; no service restart is needed). What the agent had
 * before flexnode changed it is journaled first, and put back on uninstall: flexnode clears only what it set.
 */

/** Journal record: the agent's proxy settings before flexnode first changed them. */
export const PROXY_RECORD = 'arc.agent-proxy';

interface ProxyBefore {
  url: string;
  bypass: string[];
  [key: string]: unknown;
}

/** `config get` prints the value (a list as `a,b` or `[a b]`); log lines of the agent are left out. */
function value(stdout: string): string {
  const lines = stdout
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !/^(INFO|WARN|WARNING|DEBUG)\b/.test(l));
  return lines.at(-1) ?? '';
}

const asList = (text: string) =>
  text
    .split(/[\s,[\]"]+/)
    .filter(Boolean)
    .sort();
const sameList = (a: readonly string[], b: readonly string[]) => a.join(',') === [...b].sort().join(',');

/** The agent's own proxy settings (not the environment's). */
export async function readAgentProxy(host: Host, command: string): Promise<ProxyBefore> {
  const get = async (property: string) => {
    const r = await host.exec.run(command, ['config', 'get', property], { mutates: false, timeoutMs: 30_000, allowFailure: true });
    if (r.exitCode !== 0) throw new Error(`azcmagent config get ${property} failed: ${lastLine(r.stderr || r.stdout)}`);
    return value(r.stdout);
  };
  return { url: await get('proxy.url'), bypass: asList(await get('proxy.bypass')) };
}

/** Why the agent's proxy differs from what the config wants (or from what it had), or undefined when it does not. */
export async function agentProxyDrift(host: Host, command: string, config: FlexnodeConfig): Promise<string | undefined> {
  const want = agentProxy(config);
  const before = findRecord<ProxyBefore>(host, PROXY_RECORD);
  if (!want.url && !before) return undefined;
  const have = await readAgentProxy(host, command);
  if (!want.url) return `flexnode set the agent's proxy, and the config has none any more (agent: ${have.url || 'none'})`;
  if (have.url !== want.url) return `the agent's proxy.url is ${have.url ? `"${have.url}"` : 'not set'}, not the config's proxy`;
  if (!sameList(have.bypass, want.bypass)) return `the agent's proxy.bypass is [${have.bypass.join(',')}], not [${want.bypass.join(',')}] (from proxy.noProxy)`;
  return undefined;
}

async function put(host: Host, command: string, property: string, wanted: string, secrets: string[]): Promise<void> {
  const args = wanted ? ['config', 'set', property, wanted] : ['config', 'clear', property];
  await host.exec.run(command, args, {
    secrets,
    timeoutMs: 60_000,
    describe: wanted ? `set the Arc agent's ${property}` : `clear the Arc agent's ${property}`,
  });
}

/** Make the agent's proxy what the config says; journal what it had first (once). */
export async function applyAgentProxy(host: Host, command: string, config: FlexnodeConfig): Promise<void> {
  const want: AgentProxy = agentProxy(config);
  const before = findRecord<ProxyBefore>(host, PROXY_RECORD);
  if (!want.url) {
    if (before) await restoreAgentProxy(host, command);
    return;
  }
  const have = host.dryRun ? { url: '', bypass: [] } : await readAgentProxy(host, command);
  if (have.url === want.url && sameList(have.bypass, want.bypass)) return;
  if (!before && !host.dryRun) await host.changes.record(PROXY_RECORD, have);
  const secrets = proxySecrets(config.proxy);
  if (have.url !== want.url) await put(host, command, 'proxy.url', want.url, secrets);
  if (!sameList(have.bypass, want.bypass)) await put(host, command, 'proxy.bypass', want.bypass.join(','), secrets);
}

/** Put back what the agent had before flexnode set its proxy, and forget the record. */
export async function restoreAgentProxy(host: Host, command: string | undefined): Promise<void> {
  const before = findRecord<ProxyBefore>(host, PROXY_RECORD);
  if (!before) return;
  if (command) {
    const have = await readAgentProxy(host, command);
    const secrets = proxySecrets({ https: before.url || undefined });
    if (have.url !== before.url) await put(host, command, 'proxy.url', before.url, secrets);
    if (!sameList(have.bypass, before.bypass)) await put(host, command, 'proxy.bypass', before.bypass.join(','), secrets);
  }
  await host.changes.forget(PROXY_RECORD);
}
