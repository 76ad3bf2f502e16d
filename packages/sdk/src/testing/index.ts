/**
 * `@flexnode/sdk/testing`: test a step without root. {@link MemoryHost} is an in-memory machine with the
 * real Host's journaling; {@link runStepCycle} asserts the step contract (check is read-only, install
 * converges and is idempotent, uninstall restores the machine).
 */
export { MemoryHost, type MemoryFile, type MemorySnapshot, type RecordedOp, type ExecHandler } from './memory-host.js';
export { runStepCycle, createStep, diffSnapshots, CycleAssertionError, type CycleReport, type StepDeps } from './harness.js';
export { testConfig } from './test-config.js';
export { typicalServices } from './typical-services.js';
export { execStartOf } from './unit-words.js';
