/** `flexnode agent`: bootstrap, then watch and heal the node under systemd. */
export { Agent, type AgentOptions } from './loop.js';
export { HealTracker, defaultHealPolicy, type HealPolicy, type StepHealth, type StepState } from './heal.js';
export { createAgentLogger, type AgentLogger, type AgentLoggerOptions } from './log.js';
export { createNotifier, type Notifier, type NotifierOptions } from './sd-notify.js';
export { readAgentStatus, writeAgentStatus, statusFilePath, type AgentStatus, type AgentView } from './status-file.js';
export { startWorker, defaultWorkerCommand, WorkerError, type WorkerCommand, type WorkerReport, type WorkerRequest, type WorkerRun } from './worker.js';
export { agentFlags, parseAgentArgv, listPluginSources, defaultDataDir, runAgentFromArgv, runAgent, type AgentFlags, type AgentFlagSpec } from './cli.js';
