// Runs the built flexnode CLI inside a booted machine (the repo is bind-mounted read-only at its own path).
import type { ExecResult, Machine } from '../machine/machine.js';
import { repoRoot } from '../mirror/paths.js';

export const CONFIG_PATH = '/etc/aks-flex-node/config.json';

/** Paths that change by running anything at all, not by flexnode: logs and systemd/journal bookkeeping. */
export const RUN_NOISE = ['/var/log', '/var/lib/systemd', '/var/cache', '/etc/machine-id', '/var/lib/containerd', '/var/tmp', '/root/.npm', '/root/.cache'];

/** `flexnode ARGS` inside the machine; never throws, the caller asserts on the result. */
export function flexnode(machine: Machine, args: string[], env: Record<string, string> = {}): Promise<ExecResult> {
  return machine.exec(['node', `${repoRoot()}/packages/cli/bin/run.js`, ...args], { allowFailure: true, timeoutMs: 300_000, env });
}

/** Write the config the way an operator would (mode 0600, it may hold a secret). */
export async function writeConfig(machine: Machine, config: unknown): Promise<void> {
  await machine.exec(['mkdir', '-p', '-m', '0700', '/etc/aks-flex-node']);
  await machine.writeFile(CONFIG_PATH, `${JSON.stringify(config, null, 2)}\n`, 0o600);
}

/** Output of a failed CLI run with the journal of the unit involved, for assertion messages. */
export async function explain(machine: Machine, result: ExecResult, unit?: string): Promise<string> {
  const journal = unit ? `\n--- journal of ${unit} ---\n${await machine.journal(unit).catch((e: Error) => e.message)}` : '';
  return `exit ${result.exitCode}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}${journal}`;
}
