import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import { underRoot } from '@flexnode/sdk';
import { STATE_DIR } from '../runtime/paths.js';
import { isAlive, writeFileAtomic } from '../state/index.js';
import type { StepHealth } from './heal.js';

/** `<root>/var/lib/flexnode/status.json`: what the running agent last saw. */
export const statusFilePath = (root: string) => join(underRoot(root, STATE_DIR), 'status.json');

/** The status file. No secrets: reasons and errors are redacted before they get here. */
export interface AgentStatus {
  version: 1;
  pid: number;
  /** ISO time the agent process started. */
  startedAt: string;
  /** The agent's start in clock ticks since boot (/proc): tells its pid from a recycled one (state/lock.ts isAlive). */
  startTicks?: number;
  /** starting: first bootstrap running; running: between or in cycles; stopping: after SIGTERM. */
  phase: 'starting' | 'running' | 'stopping';
  /** The first bootstrap finished (successfully or not): READY was sent. */
  ready: boolean;
  intervalSeconds: number;
  /** ISO time the last cycle finished, and how it went. */
  lastCycle?: string;
  cycles: number;
  /** Set when the last cycle could not run (another flexnode run held the lock, the config failed to load...). */
  lastCycleSkipped?: string;
  /** Every step is ok. */
  healthy: boolean;
  /** An upgrade the agent found due (`pending`), last did, or failed to do (agent.autoUpgrade). */
  upgrade?: { pending?: string; last?: string; at?: string; lastError?: string; nextAttemptAt?: string };
  steps: Record<string, StepHealth>;
}

/** Write the status file atomically, mode 0644 (its directory, the state dir, stays 0700). */
export async function writeAgentStatus(root: string, status: AgentStatus): Promise<void> {
  const path = statusFilePath(root);
  await fs.mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFileAtomic(path, `${JSON.stringify(status, null, 2)}\n`, { mode: 0o644 });
}

/** What `flexnode status` shows of the agent. */
export interface AgentView {
  status: AgentStatus;
  /** The agent process is alive. */
  running: boolean;
  /** Running, and its last write is recent (within three intervals and a minute). */
  fresh: boolean;
  /** Steps the agent reports failing or not ok. */
  unhealthy: string[];
}

/** Read the agent's status file; undefined when there is none or it is unreadable. */
export async function readAgentStatus(root: string, now = Date.now()): Promise<AgentView | undefined> {
  let status: AgentStatus;
  let mtime: number;
  try {
    const path = statusFilePath(root);
    const [text, stat] = await Promise.all([fs.readFile(path, 'utf8'), fs.stat(path)]);
    status = JSON.parse(text) as AgentStatus;
    mtime = stat.mtimeMs;
  } catch {
    return undefined;
  }
  if (status?.version !== 1 || !Number.isInteger(status.pid)) return undefined;
  const running = status.pid !== process.pid && isAlive(status.pid, status.startTicks);
  const fresh = running && now - mtime <= (3 * (status.intervalSeconds || 60) + 60) * 1000;
  const unhealthy = Object.entries(status.steps ?? {})
    .filter(([, s]) => s.state !== 'ok')
    .map(([id]) => id);
  return { status, running, fresh, unhealthy };
}
