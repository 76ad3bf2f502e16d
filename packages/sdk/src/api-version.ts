/**
 * The version of the plugin contract this SDK describes. A plugin declares the value it was built
 * against (`definePlugin({apiVersion: API_VERSION})`); core refuses a plugin whose apiVersion it does
 * not support, with a message naming the plugin, and carries on without it.
 */
export const API_VERSION = 1 as const;
