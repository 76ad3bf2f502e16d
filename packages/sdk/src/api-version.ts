/**
 * The version of the plugin contract this SDK describes. A plugin declares the value it was built
 * against (`definePlugin({apiVersion: API_VERSION})`); core refuses a plugin whose apiVersion it does
 * not support, with a message naming the plugin, and carries on without it.
 *
 * 2: `inject` is an object of typed tokens and `create` receives that object; capabilities are typed tokens
 * (`defineCapability`) with a service contract. Version 1 plugins (positional `inject`) still run, with a
 * deprecation warning, until the next minor version.
 */
export const API_VERSION = 2 as const;

/** Plugin API versions that still run, oldest first. */
export const SUPPORTED_API_VERSIONS: readonly number[] = [1, API_VERSION];
