export { discoverPlugins, SUPPORTED_API_VERSIONS } from './discover.js';
export { resolvePlugins, type Resolution, type ResolvedStep, type SkippedStep, type CapabilityChoice } from './resolve.js';
export type { LoadedPlugin, PluginKind, PluginProblem, PluginSource } from './types.js';
export { resolveSteps, resolveDiscovered, type GraphStep, type StepsView } from './steps-view.js';
export { checkPluginChoices } from './config-choices.js';
export { orderSteps, selectSteps, type GraphNode, type StepGraph } from '../graph/index.js';
