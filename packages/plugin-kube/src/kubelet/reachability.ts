import type { Host } from '@flexnode/sdk';

/** The note (see HostNotes) of when the API server last answered this node. */
export const API_NOTE = 'api-server';

interface ApiNote {
  server: string;
  /** ISO time of the last answer (any HTTP status: the server is there). */
  lastAnswer?: string;
  /** ISO time it was first found unreachable with no answer on record. */
  unreachableSince?: string;
}

/** Remember that `server` answered now. */
export async function rememberAnswer(host: Host, server: string, now = new Date()): Promise<void> {
  await host.notes.write(API_NOTE, { server, lastAnswer: now.toISOString() } satisfies ApiNote);
}

/**
 * How long `server` has not answered (ms), from the note: since its last answer, or since it was first found
 * unreachable when it never answered on record (then the note starts counting now).
 */
export async function silenceOf(host: Host, server: string, now = new Date()): Promise<{ ms: number; since: string }> {
  const note = await host.notes.read<ApiNote>(API_NOTE);
  const since = note?.server === server ? (note.lastAnswer ?? note.unreachableSince) : undefined;
  if (since && !Number.isNaN(Date.parse(since))) return { ms: Math.max(0, now.getTime() - Date.parse(since)), since };
  await host.notes.write(API_NOTE, { server, unreachableSince: now.toISOString() } satisfies ApiNote);
  return { ms: 0, since: now.toISOString() };
}
