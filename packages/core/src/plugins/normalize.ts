import { capabilityName, type AnyServiceDefinition, type AnyStepDefinition } from '@flexnode/sdk';

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

/** The capability a service is for, by name. */
export function serviceCapability(service: AnyServiceDefinition): string {
  return capabilityName(service.capability);
}
