// `flexnode token` answered from its cache alone, without oclif: the CLI's fast path (packages/cli/src/fast/token.ts)
// runs this for the kubelet's exec credential plugin, which calls `flexnode token` at every kubelet start and each
// token refresh. The same cache, scope and ExecCredential as commands/token.ts, whose job a miss stays.
import { pathProblem } from '@flexnode/sdk';
import { MACHINE_RECORD, TOKEN_CACHE_DIR } from './paths.js';
import {
  EXEC_API_VERSIONS,
  execApiVersion,
  execCredential,
  readCachedToken,
  recordedPrincipal,
  resourceProblem,
  scopeOf,
  type ExecApiVersion,
} from './token-cache.js';

export { EXEC_API_VERSIONS, type ExecApiVersion };

/**
 * The line `flexnode token --resource R [--api-version V] [--cache-dir D]` prints when the cache holds a token for R
 * (commands/token.ts, with the same execApiVersion); undefined on a miss, and for input the command refuses.
 */
export async function cachedExecCredential(options: { resource: string; apiVersion?: ExecApiVersion; cacheDir?: string }): Promise<string | undefined> {
  // What the command refuses (a bad resource, a cache directory failing the SDK's path rule) is the command's to say.
  if (resourceProblem(options.resource) || (options.cacheDir !== undefined && pathProblem(options.cacheDir))) return undefined;
  const token = await readCachedToken(options.cacheDir ?? TOKEN_CACHE_DIR, scopeOf(options.resource), Date.now(), await recordedPrincipal(MACHINE_RECORD));
  if (!token) return undefined;
  return execCredential(token, execApiVersion(options.apiVersion));
}
