import { token, type Token } from './tokens.js';

const PREFIX = 'flexnode.capability.';

/**
 * A capability: a named role in the node (`container-runtime`, `cni`, ...) that exactly one plugin fills, and the
 * typed token under which that plugin's service of type `T` is injected into other plugins' steps. Steps name it
 * in `provides` (they are part of the provider: choosing another provider drops them all) and in `after`; steps
 * and services inject it to get the provider's service.
 */
export type Capability<T> = Token<T> & { readonly __flexnodeCapability?: true };

const NAME = /^[a-z0-9][a-z0-9-]*$/;

/**
 * Declare a capability once, with the type of the service its provider exposes:
 * `export const ContainerRuntime = defineCapability<ContainerRuntimeService>('container-runtime')`.
 * Two declarations of the same name (in two copies of the SDK) are the same token.
 */
export function defineCapability<T>(name: string): Capability<T> {
  if (!NAME.test(name)) throw new TypeError(`capability name "${name}" must be lowercase words joined by "-", e.g. "container-runtime"`);
  return token<T>(`${PREFIX}${name}`) as Capability<T>;
}

/** A capability as steps may name it: the typed token, or (older plugins) its name. */
export type CapabilityRef = Capability<unknown> | string;

/** The name of a capability (`container-runtime`), from its token or its name. */
export function capabilityName(ref: CapabilityRef): string {
  if (typeof ref === 'string') return ref;
  const key = Symbol.keyFor(ref);
  if (key === undefined || !key.startsWith(PREFIX)) throw new TypeError(`${String(ref)} is not a capability token (use defineCapability)`);
  return key.slice(PREFIX.length);
}

/** True when `value` is a capability token (as opposed to Tokens.Host and other core tokens). */
export function isCapability(value: unknown): value is Capability<unknown> {
  return typeof value === 'symbol' && (Symbol.keyFor(value)?.startsWith(PREFIX) ?? false);
}

/**
 * The token of a capability by name, typed `unknown`.
 * @deprecated declare the capability with {@link defineCapability} (or import the SDK's well-known ones) so the
 * service is typed.
 */
export function capabilityToken(capability: string): Capability<unknown> {
  return defineCapability<unknown>(capability);
}
