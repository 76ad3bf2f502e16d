import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { AccessToken } from '@flexnode/sdk';
import { GUID } from './guid.js';

/** Tokens are served from the cache until this long before they expire. */
export const REFRESH_MARGIN_MS = 5 * 60_000;

export const EXEC_API_VERSIONS = ['client.authentication.k8s.io/v1beta1', 'client.authentication.k8s.io/v1'] as const;
export type ExecApiVersion = (typeof EXEC_API_VERSIONS)[number];

/**
 * Why `resource` is not something Entra ID issues a token for, or undefined when it is: an application (client)
 * id, a GUID such as the AKS server application 6dae42f8-4368-4678-94ff-3960e28e3630, or an application ID URI
 * (`api://...`, `https://...`), optionally as its `/.default` scope. It goes into the identity endpoint's query,
 * the cache's key and error messages, so nothing else (spaces, control characters, a bare word) gets that far.
 */
export function resourceProblem(resource: string): string | undefined {
  const r = resource.trim().replace(/\/\.default$/, '');
  if (GUID.test(r)) return undefined;
  // eslint-disable-next-line no-control-regex
  if (r.length <= 512 && /^[a-z][a-z0-9+.-]*:\/\/[^\s/\u0000-\u001f\u007f-\u009f][^\s\u0000-\u001f\u007f-\u009f]*$/i.test(r)) return undefined;
  return `--resource ${JSON.stringify(resource)} is neither an application id (a GUID) nor an application ID URI (api://..., https://...)`;
}

/** `6dae42f8-...` or `https://x/` → the `.default` scope of that resource. */
export function scopeOf(resource: string): string {
  const r = resource.trim();
  return r.endsWith('/.default') ? r : `${r.replace(/\/+$/, '')}/.default`;
}

/** The client-go ExecCredential a kubeconfig's exec plugin prints. */
export function execCredential(token: AccessToken, apiVersion: ExecApiVersion): string {
  return JSON.stringify({
    kind: 'ExecCredential',
    apiVersion,
    spec: { interactive: false },
    status: { token: token.token, expirationTimestamp: new Date(token.expiresOnTimestamp).toISOString().replace(/\.\d{3}Z$/, 'Z') },
  });
}

/** The apiVersion client-go asked for in KUBERNETES_EXEC_INFO, if any. */
export function requestedApiVersion(env: NodeJS.ProcessEnv = process.env): ExecApiVersion | undefined {
  try {
    const v = (JSON.parse(env.KUBERNETES_EXEC_INFO ?? '') as { apiVersion?: string }).apiVersion;
    return EXEC_API_VERSIONS.find((x) => x === v);
  } catch {
    return undefined;
  }
}

/** The ExecCredential apiVersion to print: the one given, else the one client-go asked for, else v1beta1. */
export function execApiVersion(given?: ExecApiVersion, env: NodeJS.ProcessEnv = process.env): ExecApiVersion {
  return given ?? requestedApiVersion(env) ?? EXEC_API_VERSIONS[0];
}

interface CacheEntry {
  scope: string;
  token: string;
  expiresOnTimestamp: number;
}

/** The cache file of a scope: a hash, so no resource name becomes a path. Keyed by the identity endpoint too. */
export function cacheFile(dir: string, scope: string, endpoint = process.env.IDENTITY_ENDPOINT ?? ''): string {
  return join(dir, `${createHash('sha256').update(`${scope}\n${endpoint}`).digest('hex').slice(0, 32)}.json`);
}

/**
 * A token for `scope` from the on-disk cache (a 0600 file owned by this user, valid for more than the margin, and
 * issued to `principal` when that is known), else from `fetch`, then cached (0700 directory, 0600 file, written
 * atomically) unless `write` is false (dry runs read the cache but change nothing on disk). A cache that cannot be
 * used or written never fails the call: the token is still returned.
 */
export async function cachedToken(
  dir: string,
  scope: string,
  fetch: (scope: string) => Promise<AccessToken>,
  now = Date.now(),
  write = true,
  principal?: string,
): Promise<{ token: AccessToken; cached: boolean }> {
  const file = cacheFile(dir, scope);
  const hit = await readCache(file, scope, now, principal);
  if (hit) return { token: hit, cached: true };
  const token = await fetch(scope);
  if (write) await writeCache(dir, file, { scope, token: token.token, expiresOnTimestamp: token.expiresOnTimestamp }).catch(() => undefined);
  return { token, cached: false };
}

/** The cached token for `scope`, if {@link cachedToken} would answer from the cache; never asks the endpoint. */
export function readCachedToken(dir: string, scope: string, now = Date.now(), principal?: string): Promise<AccessToken | undefined> {
  return readCache(cacheFile(dir, scope), scope, now, principal);
}

/**
 * Whose token it is: the `oid` claim of a JWT access token (Entra's object id of the identity), undefined for
 * anything else. Not verified: it only decides whether a cached token is still this machine's.
 */
export function tokenPrincipal(token: string): string | undefined {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { oid?: unknown };
    return typeof claims.oid === 'string' ? claims.oid : undefined;
  } catch {
    return undefined;
  }
}

/** The Arc machine identity's principalId as arc.connect recorded it (MACHINE_RECORD), undefined when none is. */
export async function recordedPrincipal(path: string): Promise<string | undefined> {
  try {
    const id = (JSON.parse(await fs.readFile(path, 'utf8')) as { principalId?: unknown }).principalId;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

async function readCache(file: string, scope: string, now: number, principal?: string): Promise<AccessToken | undefined> {
  try {
    const st = await fs.lstat(file);
    const uid = process.getuid?.();
    if (!st.isFile() || (st.mode & 0o077) !== 0 || (uid !== undefined && st.uid !== uid)) return undefined;
    const entry = JSON.parse(await fs.readFile(file, 'utf8')) as CacheEntry;
    if (entry.scope !== scope || typeof entry.token !== 'string' || !(entry.expiresOnTimestamp - now > REFRESH_MARGIN_MS)) return undefined;
    // The machine was connected again (its resource deleted and re-created, a new bootstrap) and has a new identity:
    // the old one's token would be refused by the API server until it expired, and the kubelet would get it again.
    const holder = principal && tokenPrincipal(entry.token);
    if (holder && holder.toLowerCase() !== principal.toLowerCase()) return undefined;
    return { token: entry.token, expiresOnTimestamp: entry.expiresOnTimestamp };
  } catch {
    return undefined;
  }
}

async function writeCache(dir: string, file: string, entry: CacheEntry): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await fs.lstat(dir);
  if (!st.isDirectory()) return;
  if ((st.mode & 0o077) !== 0) await fs.chmod(dir, 0o700);
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await fs.open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(JSON.stringify(entry));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(tmp, file).catch(async (error) => {
    await fs.rm(tmp, { force: true });
    throw error;
  });
}
