import type { CheckResult } from '@flexnode/sdk';
import type { PlannedChange } from '../host/plan.js';

export type { PlannedChange };

/** What happened to one step in a run. */
export type StepOutcome = 'unchanged' | 'installed' | 'planned' | 'removed' | 'skipped' | 'failed' | 'healthy' | 'unhealthy';

export interface StepResult {
  id: string;
  title: string;
  plugin: string;
  outcome: StepOutcome;
  check?: CheckResult;
  /** When the step started, in ms from the start of the run (steps run concurrently). */
  startedMs?: number;
  durationMs: number;
  /** A failure: `phase` says where in the step's life (create, check, install, verify, uninstall); `stack` with --verbose. */
  error?: { code: string; message: string; hint?: string; phase?: string; stack?: string };
  changes?: PlannedChange[];
  /** What the step could not do and a person should know (e.g. records of a plugin whose code is gone). */
  notes?: string[];
}

/** Progress events for renderers (terminal task list, JSON lines, the agent's log). */
export type RunEvent = { type: 'step-start'; id: string; title: string; phase: 'check' | 'install' | 'uninstall' } | { type: 'step-end'; result: StepResult };

export type RunListener = (event: RunEvent) => void;
