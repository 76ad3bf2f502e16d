import { capabilityName, isCapability, type AnyServiceDefinition, type AnyStepDefinition } from '@flexnode/sdk';

/**
 * Plugins name capabilities by typed token (API version 2) or by string (version 1); the graph and the
 * resolution work with names. These read a definition's capabilities as names.
 */

/** The capabilities a step is part of, by name. */
export function providesOf(step: AnyStepDefinition): string[] {
  return (step.provides ?? []).map(capabilityName);
}

/** What a step must come after: step ids and capability names. */
export function afterOf(step: AnyStepDefinition): string[] {
  return (step.after ?? []).map(capabilityName);
}

/** What a preflight step is for (`preflight: { for }`), by name; undefined when it gates every run. */
export function preflightFor(step: AnyStepDefinition): string[] | undefined {
  return typeof step.preflight === 'object' ? step.preflight.for.map(capabilityName) : undefined;
}

/** The capability a service is for, by name. */
export function serviceCapability(service: AnyServiceDefinition): string {
  return capabilityName(service.capability);
}

/** The capabilities whose services a step or service injects, by name (both forms of `inject`). */
export function injectedCapabilities(definition: AnyStepDefinition | AnyServiceDefinition): string[] {
  const inject = (definition as { inject?: unknown }).inject;
  const tokens = Array.isArray(inject) ? (inject as unknown[]) : inject && typeof inject === 'object' ? Object.values(inject) : [];
  return tokens.filter(isCapability).map(capabilityName);
}
