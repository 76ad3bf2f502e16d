import { createHash, randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChecksumError, DownloadError, type Artifact, type ChecksumFile, type HostDownloads } from '@flexnode/sdk';
import { diskFullError, fsyncDir, sweepTemps, TEMP_PREFIX } from '../state/atomic-write.js';
import type { SharedContext, StepContext } from './context.js';
import { createAgents, httpGet, HttpGetError, statusText, type Agents } from './http-get.js';
import { unpackArchive } from './unpack.js';
import { crashPoint } from '../state/crash-hook.js';

/** One pair of keep-alive agents per Host run: the artifacts of one run from one server share connections. */
const agents = new WeakMap<SharedContext, Agents>();

const agentsFor = (shared: SharedContext): Agents => agents.get(shared) ?? agents.set(shared, createAgents()).get(shared)!;

/** Close the run's HTTP connections (part of the Host's dispose). */
export async function closeDownloads(shared: SharedContext): Promise<void> {
  const pair = agents.get(shared);
  agents.delete(shared);
  pair?.http.destroy();
  pair?.https.destroy();
}

/** Artifact names by cache path, so that an unpack error names the artifact rather than a sha256 file. */
const fetchedNames = new WeakMap<SharedContext, Map<string, string>>();

export function createDownloads(ctx: StepContext): HostDownloads {
  const names = fetchedNames.get(ctx.shared) ?? fetchedNames.set(ctx.shared, new Map()).get(ctx.shared)!;
  return {
    fetch: async (artifact) => {
      const path = await fetchArtifact(ctx, artifact);
      names.set(path, artifact.name);
      return path;
    },
    unpack: (archivePath) => unpackArchive(ctx, archivePath, names.get(archivePath)),
    checksum: (file) => fetchChecksum(ctx, file),
  };
}

/** A checksum file is a line or a few; anything larger is not one. */
const CHECKSUM_MAX_BYTES = 64 * 1024;

/**
 * The sha256 published in a checksum file (see HostDownloads.checksum): from the mirror when configured, else
 * from its https URL (never plain http: the digest is what the download is trusted by). Retried like a download.
 */
async function fetchChecksum(ctx: StepContext, file: ChecksumFile): Promise<string> {
  const { shared } = ctx;
  const url = artifactUrl({ ...file, sha256: '' }, shared.mirror);
  const shown = displayUrl(url, shared.redact);
  const what = `the published sha256 of ${file.name}`;
  if (!shared.mirror && !url.startsWith('https://')) {
    throw new DownloadError(
      what,
      shown,
      'a checksum is only fetched over https',
      'use an https URL, or a mirror (artifacts.mirror) that serves the checksum file',
    );
  }
  const { retries, backoffMs } = shared.download;
  for (let attempt = 0; ; attempt++) {
    try {
      const text = await fetchSmallText(ctx, url);
      const sha256 = parseChecksum(text, fileNameOf(file.url));
      if (!sha256) throw new DownloadError(what, shown, `it holds no sha256 (${JSON.stringify(text.slice(0, 80))})`);
      ctx.log.info(`${file.name}: sha256 ${sha256} published at ${shown}`);
      return sha256;
    } catch (error) {
      if (!(error instanceof Transient)) throw error instanceof DownloadError ? error : new DownloadError(what, shown, (error as Error).message);
      if (attempt >= retries)
        throw new DownloadError(
          what,
          shown,
          `${error.message} (gave up after ${attempt + 1} attempts)`,
          'check the network, the proxy settings and the mirror URL',
        );
      await sleep(backoffMs * 2 ** attempt);
    }
  }
}

async function fetchSmallText(ctx: StepContext, url: string): Promise<string> {
  const idle = ctx.shared.download.idleTimeoutMs;
  let response: IncomingMessage;
  try {
    response = await httpGet(url, { proxy: ctx.shared.proxy, idleTimeoutMs: idle, connectTimeoutMs: Math.min(idle, 30_000), agents: agentsFor(ctx.shared) });
  } catch (error) {
    throw requestFailure(error, idle / 1000);
  }
  const status = response.statusCode ?? 0;
  if (status < 200 || status > 299) {
    discard(response);
    const reason = `HTTP ${status}${statusText(status) ? ` ${statusText(status)}` : ''}`;
    if (status >= 500 || status === 408 || status === 429) throw new Transient(reason);
    throw new Error(reason);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response) {
      size += (chunk as Buffer).length;
      if (size > CHECKSUM_MAX_BYTES) {
        discard(response);
        throw new Error(`larger than ${CHECKSUM_MAX_BYTES} bytes: not a checksum file`);
      }
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    if (/not a checksum file/.test((error as Error).message)) throw error;
    throw new Transient(networkReason(error, idle / 1000));
  }
  return Buffer.concat(chunks).toString('utf8');
}

const fileNameOf = (url: string) => decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '').replace(/\.sha256$/, '');

/**
 * The sha256 in a checksum file: the bare digest (dl.k8s.io's `.sha256`), or `sha256sum` lines, where the line
 * naming `fileName` wins when there are several. Undefined when there is none.
 */
export function parseChecksum(text: string, fileName: string): string | undefined {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const entries = lines.map((l) => /^([0-9a-fA-F]{64})(?:\s+\*?(.+))?$/.exec(l)).filter((m): m is RegExpExecArray => m !== null);
  if (entries.length === 0 || entries.length !== lines.length) return undefined;
  const chosen = entries.length === 1 ? entries[0] : entries.find((m) => m[2] !== undefined && m[2].split('/').pop() === fileName);
  return chosen?.[1]?.toLowerCase();
}

/** The URL an artifact is fetched from: the mirror's copy when a mirror is configured. */
export function artifactUrl(artifact: Artifact, mirror: string | undefined): string {
  return mirror ? `${mirror.replace(/\/+$/, '')}/${artifact.mirrorPath.replace(/^\/+/, '')}` : artifact.url;
}

/**
 * Fetch, verify and cache an artifact; returns `<cache>/<sha256>`. The body is hashed while it streams to a temp
 * file and the checksum is checked before the file gets its final name, so a path returned always holds verified
 * bytes, and a cached one costs no network at all.
 */
async function fetchArtifact(ctx: StepContext, artifact: Artifact): Promise<string> {
  const { shared } = ctx;
  const expected = artifact.sha256?.toLowerCase();
  const url = artifactUrl(artifact, shared.mirror);
  const shown = displayUrl(url, shared.redact);
  if (!/^[0-9a-f]{64}$/.test(expected ?? '')) {
    throw new DownloadError(artifact.name, shown, `the pinned sha256 ${JSON.stringify(artifact.sha256)} is not 64 hex digits`);
  }
  const cached = join(shared.cacheDir, expected);
  if (await exists(cached)) {
    ctx.log.debug(`${artifact.name}: cached at ${cached}`);
    return cached;
  }
  if (ctx.dryRun) {
    ctx.planned('download', shown, `(sha256 ${expected.slice(0, 12)}…)`);
    return cached; // a placeholder: it does not exist and must not be read
  }
  let pending = shared.inflight.get(expected);
  if (!pending) {
    pending = shared.activity.time('download', () => download(ctx, artifact, url, shown, expected, cached)).finally(() => shared.inflight.delete(expected));
    shared.inflight.set(expected, pending);
  }
  return pending;
}

/** Downloaded bytes are written to the cache file in pieces of about this size. */
const WRITE_SIZE = 1 << 20;

/** A failure worth another try (connection reset, 5xx, idle timeout, truncated body). */
class Transient extends Error {}

async function download(ctx: StepContext, artifact: Artifact, url: string, shown: string, expected: string, cached: string): Promise<string> {
  const { retries, backoffMs } = ctx.shared.download;
  await fs.mkdir(ctx.shared.cacheDir, { recursive: true, mode: 0o755 });
  await sweepTemps(cached); // partial downloads of this artifact by a killed run (one download per sha at a time)
  for (let attempt = 0; ; attempt++) {
    try {
      ctx.log.info(`downloading ${artifact.name} from ${shown}${attempt ? ` (retry ${attempt} of ${retries})` : ''}`);
      return await attemptDownload(ctx, artifact, url, shown, expected, cached);
    } catch (error) {
      if (!(error instanceof Transient)) throw error;
      if (attempt >= retries) {
        throw new DownloadError(
          artifact.name,
          shown,
          `${error.message} (gave up after ${attempt + 1} attempts)`,
          'check the network, the proxy settings and the mirror URL',
        );
      }
      const delay = backoffMs * 2 ** attempt;
      ctx.log.warn(`${artifact.name}: ${error.message}; retrying in ${delay} ms`);
      await sleep(delay);
    }
  }
}

async function attemptDownload(ctx: StepContext, artifact: Artifact, url: string, shown: string, expected: string, cached: string): Promise<string> {
  const idle = ctx.shared.download.idleTimeoutMs;
  const idleSeconds = idle / 1000;
  let response: IncomingMessage;
  try {
    response = await httpGet(url, { proxy: ctx.shared.proxy, idleTimeoutMs: idle, connectTimeoutMs: Math.min(idle, 30_000), agents: agentsFor(ctx.shared) });
  } catch (error) {
    const failure = requestFailure(error, idleSeconds);
    throw failure instanceof Transient
      ? failure
      : new DownloadError(artifact.name, shown, failure.message, 'fix proxy.http / proxy.https in the config, or HTTPS_PROXY / HTTP_PROXY');
  }
  const status = response.statusCode ?? 0;
  if (status < 200 || status > 299) {
    discard(response);
    const text = statusText(status);
    const reason = `HTTP ${status}${text ? ` ${text}` : ''}`;
    if (status >= 500 || status === 408 || status === 429) throw new Transient(reason);
    throw new DownloadError(
      artifact.name,
      shown,
      reason,
      status === 404 ? 'the mirror does not have this file: is the mirror complete, and the version right?' : undefined,
    );
  }
  const length = response.headers['content-length'];
  const declared = typeof length === 'string' ? Number(length) : Number.NaN;
  const temp = join(ctx.shared.cacheDir, `${TEMP_PREFIX}${expected}.${randomBytes(6).toString('hex')}`);
  const hash = createHash('sha256');
  let received = 0;
  const handle = await fs.open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
  let closed = false;
  try {
    try {
      // Chunks are gathered into writes of about WRITE_SIZE: fewer syscalls and thread-pool round trips.
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      let written = 0;
      const flush = async () => {
        const buffers = pending;
        const bytes = pendingBytes;
        pending = [];
        pendingBytes = 0;
        const done = (await handle.writev(buffers)).bytesWritten;
        if (done < bytes) {
          // A short write: the rest, from where it stopped.
          const rest = Buffer.concat(buffers, bytes).subarray(done);
          for (let offset = 0; offset < rest.length;) offset += (await handle.write(rest, offset)).bytesWritten;
        }
        if (written === 0) crashPoint(`download:${artifact.name}:mid`); // first bytes on disk
        written += bytes;
      };
      for await (const chunk of response) {
        const bytes = chunk as Buffer; // not copied: written with the others in one writev
        hash.update(bytes);
        received += bytes.length;
        pending.push(bytes);
        pendingBytes += bytes.length;
        if (pendingBytes >= WRITE_SIZE || pending.length >= 1024) await flush();
      }
      if (pendingBytes > 0) await flush();
    } catch (error) {
      if (isFsError(error)) throw error;
      const of = Number.isFinite(declared) ? ` of ${declared}` : '';
      throw new Transient(`${networkReason(error, idleSeconds)} after ${received}${of} bytes`);
    }
    if (Number.isFinite(declared) && received !== declared) {
      throw new Transient(`truncated: received ${received} of ${declared} bytes`);
    }
    await handle.sync();
    await handle.close();
    closed = true;
    const actual = hash.digest('hex');
    if (actual !== expected) throw new ChecksumError(artifact.name, expected, actual, shown);
    await fs.chmod(temp, 0o644);
    await fs.rename(temp, cached);
    await fsyncDir(ctx.shared.cacheDir);
    // Hashed on the way in: whoever copies or checks it next need not read it for that.
    await ctx.shared.hashes.remember(cached, expected);
    ctx.log.info(`${artifact.name}: ${received} bytes, sha256 verified`);
    return cached;
  } catch (error) {
    discard(response);
    if (!closed) await handle.close().catch(() => undefined);
    await fs.rm(temp, { force: true }).catch(() => undefined);
    throw diskFullError(error, temp);
  }
}

/** Drop a response body not (fully) read: the connection is closed, the abort is no error to report. */
function discard(body: NodeJS.ReadableStream & { destroy(): void }): void {
  body.on('error', () => undefined);
  body.destroy();
}

/** A person-readable reason for a network failure. */
/** A request that failed: worth another try, except for a proxy setting that no retry can fix. */
function requestFailure(error: unknown, idleSeconds: number): Error {
  return error instanceof HttpGetError && error.code === 'BAD_PROXY' ? error : new Transient(networkReason(error, idleSeconds));
}

function networkReason(error: unknown, idleSeconds: number): string {
  const cause = ((error as { cause?: unknown })?.cause ?? error) as { code?: string; message?: string };
  switch (cause?.code) {
    case 'IDLE_TIMEOUT':
      return `the server sent nothing for ${idleSeconds} s (idle timeout)`;
    case 'CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return 'connection timed out';
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'connection closed by the server';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host name not found';
    default:
      return cause?.message ?? String(error);
  }
}

const isFsError = (error: unknown) =>
  typeof (error as { syscall?: unknown })?.syscall === 'string' && ['write', 'open', 'fsync'].includes((error as { syscall: string }).syscall);

/** The URL as shown in messages: credentials in it replaced. */
function displayUrl(url: string, redact: (s: string) => string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username || parsed.password) {
      parsed.username = '***';
      parsed.password = '';
    }
    return redact(parsed.toString());
  } catch {
    return redact(url);
  }
}

async function exists(path: string): Promise<boolean> {
  return fs.access(path).then(
    () => true,
    () => false,
  );
}
