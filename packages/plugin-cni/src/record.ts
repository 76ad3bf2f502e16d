import type { Host } from '@flexnode/sdk';

/**
 * A custom journal record of what a step installed from an archive: the artifact (name and sha256) and the
 * sha256 of each file copied out of it. It lets `check` verify the installed binaries against the verified
 * archive without downloading it again.
 */
export interface InstalledFiles {
  artifact: string;
  sha256: string;
  /** Installed path → sha256 of its content as copied from the verified archive. */
  files: Record<string, string>;
}

/** The newest custom record of `type` journaled by this step, if any. */
export function latestRecord<T>(host: Host, type: string): T | undefined {
  const changes = host.changes.list();
  for (let i = changes.length - 1; i >= 0; i--) {
    const change = changes[i]!;
    if (change.kind === 'custom' && change.type === type) return change.data as T;
  }
  return undefined;
}

/**
 * Replace the record of `type` with `data`, but only when it differs: an install on an installed machine must
 * not even touch the journal.
 */
export async function saveRecord(host: Host, type: string, data: object): Promise<void> {
  const current = latestRecord<object>(host, type);
  if (current !== undefined && canonical(current) === canonical(data)) return;
  await host.changes.forget(type);
  await host.changes.record(type, data as Record<string, unknown>);
}

/** JSON with sorted keys: two semantically equal values give the same string. */
export function canonical(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}
