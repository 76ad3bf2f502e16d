/** Where flexnode keeps its state, lock and logs on the target machine (before the --root prefix). */
export const STATE_DIR = process.env.FLEXNODE_STATE_DIR ?? '/var/lib/flexnode';
export const LOCK_DIR = '/run/flexnode';
export const DEFAULT_LOG_DIR = '/var/log/aks-flex-node';
