import type { Host } from '@flexnode/sdk';

/** All custom records of `type`, oldest first. */
export function records<T>(host: Host, type: string): T[] {
  return host.changes
    .list()
    .filter((c) => c.kind === 'custom' && c.type === type)
    .map((c) => (c as { data: unknown }).data as T);
}

/** The error's message, for reasons and logs. */
export const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
