import { posix } from 'node:path';
import type { Host } from '@flexnode/sdk';

/**
 * Create a directory and each missing ancestor one by one, so every directory this step creates is journaled
 * and uninstall removes it again when it is empty (and never when something else put files in it).
 */
export async function ensureDir(host: Host, dir: string, mode = 0o755): Promise<void> {
  const absent: string[] = [];
  for (let d = dir; d !== '/' && (await host.files.stat(d)) === undefined; d = posix.dirname(d)) absent.unshift(d);
  for (const d of absent) await host.files.mkdir(d, { mode: d === dir ? mode : 0o755 });
}

/** The newest custom journal record of `type` made by this step. */
export function latestRecord<T>(host: Host, type: string): T | undefined {
  const changes = host.changes.list();
  for (let i = changes.length - 1; i >= 0; i--) {
    const change = changes[i]!;
    if (change.kind === 'custom' && change.type === type) return change.data as T;
  }
  return undefined;
}

/** All custom records of `type`, oldest first. */
export function records<T>(host: Host, type: string): T[] {
  return host.changes
    .list()
    .filter((c) => c.kind === 'custom' && c.type === type)
    .map((c) => (c as { data: unknown }).data as T);
}

/** Replace the record of `type` with `data` only when it differs: an install on an installed machine changes nothing. */
export async function saveRecord(host: Host, type: string, data: object): Promise<void> {
  const current = latestRecord<object>(host, type);
  if (current !== undefined && canonical(current) === canonical(data)) return;
  await host.changes.forget(type);
  await host.changes.record(type, data as Record<string, unknown>);
}

/** JSON with sorted keys. */
export function canonical(value: unknown): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sort)
      : v && typeof v === 'object'
        ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])]))
        : v;
  return JSON.stringify(sort(value));
}

/** The error's message, for reasons and logs. */
export const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
