// The agent's config in a machine: the runtime and CNI from the host-side mirror (see ../node/node-config.ts),
// a 5 s interval, and the steps the agent may run. Arc and the kubelet need Azure (a fake ARM and a stand-in
// kubelet, being finished elsewhere): add them to `only` and the config here when they can run in a box.
import type { ArtifactManifest } from '../mirror/build-artifacts.js';
import { nodeConfig } from '../node/node-config.js';

/** Capabilities and steps the agent test runs today, without Azure. */
export const AGENT_ONLY = ['container-runtime', 'cni'];

export function agentConfig(manifest: ArtifactManifest, mirrorUrl: string, overrides: Record<string, unknown> = {}): Record<string, any> {
  return nodeConfig(manifest, mirrorUrl, {
    agent: { logLevel: 'debug', logDir: '/var/log/aks-flex-node', intervalSeconds: 5 },
    ...overrides,
  });
}

/** A drop-in restricting the agent to `only` (the unit's ExecStart runs every step). */
export function onlyDropIn(only: readonly string[]): string {
  return `[Service]\nExecStart=\nExecStart=/usr/local/bin/flexnode agent --only ${only.join(',')}\n`;
}
