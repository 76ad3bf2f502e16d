import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChecksumError, DownloadError } from '@flexnode/sdk';
import { createAgents, httpGet, statusText, type Agents, type ProxyConfig } from '../host/http-get.js';
import { replaceAtomic } from '../state/atomic-write.js';

/** How the mirror's downloads reach their sources. */
export interface FetchSettings {
  proxy?: ProxyConfig;
  /** Extra trusted CA certificates (tests); the system's are always trusted. */
  ca?: string | Buffer;
  /** Tries after the first on a transient failure (connection, 5xx, 429, truncated body). Default 3. */
  retries?: number;
  backoffMs?: number;
  idleTimeoutMs?: number;
}

/** A failure worth another try. */
class Transient extends Error {}

export class Fetcher {
  private readonly agents: Agents = createAgents();
  constructor(private readonly settings: FetchSettings = {}) {}

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  /** GET `url` and hand the 2xx body to `consume`, retrying transient failures; 4xx other than 408/429 fails at once. */
  private async withBody<T>(name: string, url: string, consume: (body: IncomingMessage, declared: number) => Promise<T>): Promise<T> {
    const retries = this.settings.retries ?? 3;
    const shown = withoutCredentials(url);
    for (let attempt = 0; ; attempt++) {
      try {
        let response: IncomingMessage;
        try {
          const idleTimeoutMs = this.settings.idleTimeoutMs ?? 60_000;
          response = await httpGet(url, {
            proxy: this.settings.proxy,
            idleTimeoutMs,
            connectTimeoutMs: Math.min(idleTimeoutMs, 30_000),
            agents: this.agents,
            ca: this.settings.ca,
          });
        } catch (error) {
          throw new Transient((error as Error).message);
        }
        const status = response.statusCode ?? 0;
        if (status < 200 || status > 299) {
          response.resume();
          const reason = `HTTP ${status} ${statusText(status) ?? ''}`.trim();
          if (status >= 500 || status === 408 || status === 429) throw new Transient(reason);
          throw new DownloadError(
            name,
            shown,
            reason,
            status === 404 ? 'the source does not have this file: is the version right, and the source mirror complete?' : undefined,
          );
        }
        const length = Number(response.headers['content-length']);
        return await consume(response, Number.isFinite(length) ? length : -1);
      } catch (error) {
        if (!(error instanceof Transient)) throw error;
        if (attempt >= retries)
          throw new DownloadError(
            name,
            shown,
            `${error.message} (gave up after ${attempt + 1} attempts)`,
            'check the network, the proxy settings and the source URL',
          );
        await sleep((this.settings.backoffMs ?? 500) * 2 ** attempt);
      }
    }
  }

  /** A small text file (a published checksum, a manifest), at most `limit` bytes (default 64 KiB). */
  text(name: string, url: string, limit = 65_536): Promise<string> {
    return this.withBody(name, url, async (body) => {
      const chunks: Buffer[] = [];
      let size = 0;
      try {
        for await (const chunk of body) {
          size += (chunk as Buffer).length;
          if (size > limit) throw new DownloadError(name, withoutCredentials(url), `larger than ${limit} bytes: not what was expected`);
          chunks.push(chunk as Buffer);
        }
      } catch (error) {
        if (error instanceof DownloadError) throw error;
        throw new Transient((error as Error).message);
      }
      return Buffer.concat(chunks).toString('utf8');
    });
  }

  /**
   * Download `url` to `path` (mode 0644) with the bytes hashed as they stream; the file gets its name only when
   * the sha256 matches, so `path` never holds unverified bytes. Returns the size.
   */
  file(name: string, url: string, path: string, sha256: string): Promise<number> {
    return this.withBody(name, url, async (body, declared) => {
      const hash = createHash('sha256');
      let received = 0;
      await replaceAtomic(path, { mode: 0o644 }, async (handle) => {
        try {
          for await (const chunk of body) {
            const buffer = chunk as Buffer;
            hash.update(buffer);
            received += buffer.length;
            for (let offset = 0; offset < buffer.length;) offset += (await handle.write(buffer, offset)).bytesWritten;
          }
        } catch (error) {
          if (typeof (error as { syscall?: unknown }).syscall === 'string' && (error as { syscall: string }).syscall !== 'read') throw error;
          throw new Transient(`${(error as Error).message} after ${received} bytes`);
        }
        if (declared >= 0 && received !== declared) throw new Transient(`truncated: received ${received} of ${declared} bytes`);
        const actual = hash.digest('hex');
        if (actual !== sha256) throw new ChecksumError(name, sha256, actual, withoutCredentials(url));
      });
      return received;
    });
  }
}

/** sha256 of a local file, streamed. */
export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * The digest in a published checksum file: the bare hex, or `sha256sum` lines (`<hex>  <file>`), where the
 * line for `file` wins when there are several. Undefined when none fits.
 */
export function parseChecksumFile(text: string, file: string): string | undefined {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  const entries = lines.map((l) => /^([0-9a-fA-F]{64})(?:\s+\*?(\S.*))?$/.exec(l)).filter((m): m is RegExpExecArray => m !== null);
  const named = entries.find((m) => m[2] !== undefined && m[2].split('/').pop() === file);
  if (named) return named[1]!.toLowerCase();
  return entries.length === 1 && (entries[0]![2] === undefined || lines.length === 1) ? entries[0]![1]!.toLowerCase() : undefined;
}

/** A URL as it may be shown and recorded: a user and password in it (a mirror behind basic auth) left out. */
export function withoutCredentials(url: string): string {
  // Up to the last '@' after the scheme: a password with an unescaped '#', '?' or '/' does not parse as one.
  const unparsed = /^([a-z][a-z0-9+.-]*:\/\/)(.*)@/is.exec(url);
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) return unparsed ? `${unparsed[1]}${url.slice(unparsed[0].length)}` : url;
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return unparsed ? `${unparsed[1]}${url.slice(unparsed[0].length)}` : url;
  }
}
