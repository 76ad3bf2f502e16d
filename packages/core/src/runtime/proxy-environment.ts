import { exemptLoopbackFromProxy } from '@flexnode/sdk';

/** The config's `proxy` section. */
export interface ProxySettings {
  http?: string;
  https?: string;
  noProxy?: string;
}

/**
 * The config's proxy made this process's, for what reads the environment rather than the config: the Azure SDK
 * (ARM and Entra for every Azure step, the Arc identity) and the commands steps run. The config wins over what
 * the environment says, as for downloads (http-get.ts). Whenever a proxy applies, loopback is added to NO_PROXY
 * (the SDK's exemptLoopbackFromProxy: the Azure SDK would send the Arc identity's token requests to the proxy). Called before
 * any step runs: the Azure SDK reads NO_PROXY once per process, when it makes its first client.
 */
export function applyProxyEnvironment(proxy: ProxySettings | undefined, env: NodeJS.ProcessEnv = process.env): void {
  const set = (names: string[], value: string | undefined) => {
    if (value !== undefined) for (const n of names) env[n] = value;
  };
  set(['HTTPS_PROXY', 'https_proxy'], proxy?.https);
  set(['HTTP_PROXY', 'http_proxy'], proxy?.http);
  set(['NO_PROXY', 'no_proxy'], proxy?.noProxy);
  exemptLoopbackFromProxy(env);
}
