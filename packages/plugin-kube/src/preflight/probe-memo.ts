import type { ProbeResult } from './checks.js';

/** How long a probe's answer is reused: an endpoint that answered stays answering for a while; a failure is retried soon. */
export const REUSE_OK_MS = 10 * 60_000;
export const REUSE_FAILED_MS = 30_000;

/**
 * Network probes of one preflight step instance, remembered per URL. The agent checks every interval (60 s by
 * default): a fleet's nodes need not ask Azure every minute whether it answers, nor pay a TLS handshake each
 * cycle. A reused answer's Date header moves on with the local clock, so the clock check stays exact.
 */
export function rememberProbes(now: () => number = Date.now): (url: string, probe: () => Promise<ProbeResult>) => Promise<ProbeResult> {
  const memo = new Map<string, { at: number; result: Promise<ProbeResult> }>();
  return async (url, probe) => {
    const t = now();
    const hit = memo.get(url);
    if (hit) {
      const result = await hit.result;
      const age = t - hit.at;
      if (age < (result.ok ? REUSE_OK_MS : REUSE_FAILED_MS)) {
        return result.ok && result.date ? { ...result, date: new Date(Date.parse(result.date) + age).toUTCString() } : result;
      }
    }
    const result = probe();
    memo.set(url, { at: t, result });
    return result;
  };
}
