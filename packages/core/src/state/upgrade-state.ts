import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-write.js';

/**
 * Where `flexnode upgrade` keeps its transaction: `<state>/upgrade/state.json`, written before each phase
 * (write-ahead, like the journal), and the checkpoint of the components it replaces. A run killed at any point
 * leaves what the next run (`flexnode upgrade`, `bootstrap`, the agent) needs to finish or roll it back.
 */
export const upgradeDir = (stateDir: string) => join(stateDir, 'upgrade');

/**
 * - `draining`: taking the node out (slot, cordon, drain); nothing on the machine changed yet.
 * - `swapping`: the checkpoint is taken and the components are being replaced: a failure rolls back.
 * - `verified`: the node came back with the new version; only putting it back in service is left.
 * - `rolling-back`: the rollback began.
 */
export type UpgradePhase = 'draining' | 'swapping' | 'verified' | 'rolling-back';

export interface UpgradeState {
  version: 1;
  from: string;
  to: string;
  phase: UpgradePhase;
  startedAt: string;
  /** The steps checkpointed (those the upgrade may change), in run order. */
  steps: string[];
  /** Why a rollback began. */
  reason?: string;
}

/** The interrupted (or running) upgrade's state, if any. */
export async function readUpgradeState(stateDir: string): Promise<UpgradeState | undefined> {
  try {
    const state = JSON.parse(await fs.readFile(join(upgradeDir(stateDir), 'state.json'), 'utf8')) as UpgradeState;
    return state?.version === 1 ? state : undefined;
  } catch {
    return undefined;
  }
}

export async function writeUpgradeState(stateDir: string, state: UpgradeState): Promise<void> {
  await fs.mkdir(upgradeDir(stateDir), { recursive: true, mode: 0o700 });
  await writeFileAtomic(join(upgradeDir(stateDir), 'state.json'), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

/** The transaction is over: its state and checkpoint go. */
export async function clearUpgradeState(stateDir: string): Promise<void> {
  await fs.rm(upgradeDir(stateDir), { recursive: true, force: true });
}
