/**
 * `@flexnode/sdk`: the contract between flexnode's core and its plugins. A plugin depends on this package
 * alone: it declares steps with {@link defineStep}, bundles them with {@link definePlugin}, and does every
 * change to the machine through the injected {@link Host}.
 */
export { API_VERSION } from './api-version.js';
export { Tokens, capabilityToken, type WellKnownCapability } from './tokens.js';
export {
  defineStep,
  ok,
  missing,
  drifted,
  type StepDefinition,
  type StepInstance,
  type CheckResult,
  type CheckStatus,
} from './step.js';
export { definePlugin, type PluginDefinition, type ServiceDefinition } from './plugin.js';
export type * from './host.js';
export type * from './config.js';
export type * from './azure.js';
export type { MirrorArtifact, ArtifactsHook } from './artifacts.js';
export type { Logger, LogFields } from './logger.js';
export {
  findRecord,
  replaceRecord,
  canonicalJson,
  firstDifference,
  stagedPath,
  runServiceWith,
  serviceInputsChanged,
  installFiles,
  type InstalledFiles,
} from './helpers.js';
export {
  FlexnodeError,
  ConfigError,
  ChecksumError,
  DownloadError,
  UnsafeArchiveError,
  ExecError,
  StepError,
  AzureError,
  ExitCode,
  isFlexnodeError,
  type ConfigIssue,
} from './errors.js';
