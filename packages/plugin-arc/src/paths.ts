/** flexnode's state directory on the machine (same rule as core: FLEXNODE_STATE_DIR overrides it). */
export const STATE_DIR = process.env.FLEXNODE_STATE_DIR ?? '/var/lib/flexnode';

/** What arc.connect learned about the machine resource (no secret): read by the arc-identity service. */
export const MACHINE_RECORD = `${STATE_DIR}/arc/machine.json`;

/** The `flexnode token` cache: one 0600 file per resource, in a 0700 directory. */
export const TOKEN_CACHE_DIR = `${STATE_DIR}/tokens`;
