export { Session, type SessionOptions } from './session.js';
export { runBootstrap, runPlan, runStatus, type ExecStep, type ExecJournal, type ExecutorInput, type RunReport } from './executor.js';
export { runUninstall, type UninstallInput, type UninstallJournal } from './uninstall.js';
export { runInOrder } from './scheduler.js';
export { buildContainer, stepToken } from './container.js';
export { STATE_DIR, LOCK_DIR, DEFAULT_LOG_DIR } from './paths.js';
export type { PlannedChange, RunEvent, RunListener, StepOutcome, StepResult } from './events.js';
export { runUpgrade, recoverUpgrade, type UpgradeContext, type UpgradeOptions, type UpgradeReport } from './upgrade.js';
export type { UpgradeState, UpgradePhase } from '../state/upgrade-state.js';
