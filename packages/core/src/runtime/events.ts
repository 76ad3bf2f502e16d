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
  error?: { code: string; message: string; hint?: string };
  changes?: PlannedChange[];
}

/** Progress events for renderers (terminal task list, JSON lines, the agent's log). */
export type RunEvent =
  | { type: 'step-start'; id: string; title: string; phase: 'check' | 'install' | 'uninstall' }
  | { type: 'step-end'; result: StepResult };

export type RunListener = (event: RunEvent) => void;
