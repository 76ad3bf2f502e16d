import { exemptLoopbackFromProxy, proxyEnvironment } from '@flexnode/sdk';

/** The config's `proxy` section. */
export interface ProxySettings {
  http?: string;
  https?: string;
  noProxy?: string;
}

const VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy'] as const;

/** What each environment held before the config's proxy was first applied to it. */
const originals = new WeakMap<NodeJS.ProcessEnv, Partial<Record<(typeof VARIABLES)[number], string>>>();

/**
 * The config's proxy made this process's, for what reads the environment rather than the config: the Azure SDK
 * (ARM and Entra for every Azure step, the Arc identity) and the commands steps run. The config wins over what
 * the environment says, as for downloads (http-get.ts); each application starts again from what the environment
 * held before the first, so a config reloaded without its proxy (the agent) takes it out again. Loopback is
 * exempted wherever a proxy applies (exemptLoopbackFromProxy: the Azure SDK would send the Arc identity's token
 * requests to the proxy). Called before any step runs: the Azure SDK reads NO_PROXY once per process, when it makes
 * its first client (a changed noProxy needs the agent restarted).
 */
export function applyProxyEnvironment(proxy: ProxySettings | undefined, env: NodeJS.ProcessEnv = process.env): void {
  let before = originals.get(env);
  if (!before) originals.set(env, (before = Object.fromEntries(VARIABLES.flatMap((k) => (env[k] === undefined ? [] : [[k, env[k]!]])))));
  for (const k of VARIABLES) {
    if (before[k] === undefined) delete env[k];
    else env[k] = before[k];
  }
  Object.assign(env, proxyEnvironment(proxy));
  exemptLoopbackFromProxy(env);
}
