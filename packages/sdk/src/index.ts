/**
 * `@flexnode/sdk`: the contract between flexnode's core and its plugins. A plugin depends on this package
 * alone: it declares steps with {@link defineStep}, bundles them with {@link definePlugin}, and does every
 * change to the machine through the injected {@link Host}.
 */
export { API_VERSION, SUPPORTED_API_VERSIONS } from './api-version.js';
export { Tokens, token, type Token, type TokenType, type RunContext } from './tokens.js';
export { defineCapability, capabilityName, capabilityToken, isCapability, type Capability, type CapabilityRef } from './capability.js';
export {
  ContainerRuntime,
  Cni,
  AzureCredential,
  ArcIdentity,
  PodCidr,
  PodCidrErrors,
  ServiceProxy,
  NodeMaintenance,
  type NodeMaintenanceService,
  type UpgradePlan,
  type ContainerRuntimeService,
  type CniService,
  type PodCidrService,
  type ClusterNetwork,
  type ServiceProxyPlan,
  type ServiceProxyService,
} from './capabilities.js';
export {
  defineStep,
  ok,
  missing,
  drifted,
  isLegacyInject,
  instantiate,
  type StepDefinition,
  type LegacyStepDefinition,
  type AnyStepDefinition,
  type InjectMap,
  type Injected,
  type StepInstance,
  type CheckResult,
  type CheckStatus,
} from './step.js';
export { deferredStep, loadStep, LOAD_STEP, type DeferredStepInstance } from './deferred.js';
export {
  definePlugin,
  defineService,
  type PluginDefinition,
  type ServiceDefinition,
  type LegacyServiceDefinition,
  type AnyServiceDefinition,
} from './plugin.js';
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
export { checkNoteName } from './host-notes.js';
export { RootPaths, underRoot, checkRoot, checkRootEnvironment, pathProblem } from './root-path.js';
export { exemptLoopbackFromProxy, isLoopbackHost, maskedUrl, noProxyMatches, proxyEnvironment, proxyUrl, urlCredentials } from './urls.js';
export { readSecretFile, SECRET_FILE_MAX_BYTES, type SecretFile } from './secret-file.js';
export { childEnvironment, isCredentialVariable } from './child-env.js';
export * from './systemd.js';
export { resolveArtifact, normalizeVersion, type ComponentSpec, type VersionTable, type ArchChecksums } from './pinned-artifact.js';
export { releaseFiles, type ReleaseFiles, type ReleaseFilesSpec } from './release-files.js';
export { isPlaceholder, findPlaceholders } from './placeholders.js';
export { checkParsedFile, checkService } from './check-helpers.js';
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
