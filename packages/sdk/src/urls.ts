/**
 * A URL as it may be shown (in a message, a log, a plan): its user:password masked. Everything up to the last '@'
 * is masked, not what a URL parser reads as userinfo: a password holding an unencoded '#', '?' or '/' parses as a
 * host, a path or a fragment, or not at all, and would be printed as written.
 */
export const maskedUrl = (url: string): string => (url.includes('@') ? url.replace(/^((?:[a-z][a-z0-9+.-]*:\/\/)?).*@/is, '$1***@') : url);

/**
 * A proxy setting (the config's, or HTTPS_PROXY and the like) as the URL to dial. A value without a scheme
 * (`proxy:3128`) is http://, as curl reads it. Throws, with the value masked, when it is no http(s) URL with a host,
 * or when something follows the port: proxies take no path, and a password with an unencoded '/', '?' or '#' ends
 * the authority early (`http://user:12/x@proxy:3128` is host "user", port 12), so the proxy dialled would be
 * another host.
 */
export function proxyUrl(raw: string): URL {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  let url: URL | undefined;
  try {
    url = new URL(withScheme);
  } catch {
    // refused below
  }
  const encode = raw.includes('@') ? `; a '/', '?', '#' or '@' in the password must be percent-encoded (%2F, %3F, %23, %40)` : '';
  if (!url || !/^https?:$/.test(url.protocol) || !url.hostname)
    throw new Error(`the proxy ${maskedUrl(raw)} is not a URL like http://proxy.example:3128${encode}`);
  if (url.pathname !== '/' || /[?#]/.test(withScheme)) {
    throw new Error(`the proxy ${maskedUrl(raw)} has something after its port: a proxy URL is http://user:password@host:port${encode}`);
  }
  return url;
}

/** Addresses no proxy should see: the Arc agent's identity endpoint (HIMDS) listens on 127.0.0.1:40342. */
const LOOPBACK = ['127.0.0.1', 'localhost', '::1'];

/** Whether `host` (a URL's hostname: names, IPv4, IPv6 with or without brackets) is this machine's loopback. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/** A NO_PROXY list (comma separated) with loopback added where it is missing. */
function noProxyWithLoopback(list = ''): string {
  const entries = list
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  const lower = new Set(entries.map((e) => e.toLowerCase()));
  return [...entries, ...LOOPBACK.filter((l) => !lower.has(l))].join(',');
}

/** What names a proxy for the Azure SDK and most tools (ALL_PROXY too). */
const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy'];

/**
 * When `env` (process.env, a unit's environment) names a proxy, NO_PROXY and no_proxy exempt loopback from it.
 * Go programs never proxy loopback, but Node's Azure SDK proxies every host NO_PROXY does not name exactly, and
 * msal-node asks the Arc agent at 127.0.0.1: without this a proxy receives the node's token requests, and the
 * node gets no token. The Azure SDK reads NO_PROXY once per process, when it makes its first client: call this
 * before.
 */
export function exemptLoopbackFromProxy(env: Record<string, string | undefined>): void {
  if (!PROXY_VARIABLES.some((n) => env[n])) return;
  env.NO_PROXY = env.no_proxy = noProxyWithLoopback(env.NO_PROXY ?? env.no_proxy);
}

/**
 * The environment a service (the kubelet, the container runtime, kube-proxy) gets for the config's `proxy`:
 * HTTP(S)_PROXY and NO_PROXY in both spellings, loopback exempted ({@link exemptLoopbackFromProxy}). The values may
 * hold a password: write them to a 0600 environment file (renderEnvironmentFile), never into a unit.
 */
export function proxyEnvironment(proxy: { http?: string; https?: string; noProxy?: string } | undefined): Record<string, string> {
  const p = proxy ?? {};
  const env: Record<string, string> = {
    ...(p.http ? { HTTP_PROXY: p.http, http_proxy: p.http } : {}),
    ...(p.https ? { HTTPS_PROXY: p.https, https_proxy: p.https } : {}),
    ...(p.noProxy ? { NO_PROXY: p.noProxy, no_proxy: p.noProxy } : {}),
  };
  exemptLoopbackFromProxy(env);
  return env;
}

/**
 * Whether a NO_PROXY list exempts `host` from the proxy, by curl's rules: entries separated by commas or spaces;
 * `*` (everything); a name or an address (itself and, for a name, its subdomains); `.example.com` or
 * `*.example.com` (the domain and its subdomains). An entry's `:port` limits it to that port when `port` is given
 * (a request), and is ignored without one (does the list cover this host at all). IPv6 with or without brackets.
 */
export function noProxyMatches(noProxy: string | undefined, host: string, port?: string | number): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  for (const raw of (noProxy ?? '')
    .toLowerCase()
    .split(/[\s,]+/)
    .filter(Boolean)) {
    if (raw === '*') return true;
    let entry = raw;
    let entryPort: string | undefined;
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(raw);
    if (bracketed) [, entry, entryPort] = bracketed as unknown as [string, string, string | undefined];
    else if (raw.split(':').length === 2) {
      [entry, entryPort] = raw.split(':') as [string, string];
      if (!/^\d+$/.test(entryPort)) continue;
    } // more colons: a bare IPv6 address, without a port
    entry = entry.replace(/^\*?\./, '.');
    if (port !== undefined && entryPort !== undefined && entryPort !== String(port)) continue;
    if (entry.startsWith('.') ? h.endsWith(entry) || h === entry.slice(1) : h === entry || h.endsWith(`.${entry}`)) return true;
  }
  return false;
}

/**
 * The credentials in a URL's userinfo, for redaction: as a URL parser reads it (up to the first '@') and up to the
 * last '@' (a password with an unescaped '#', '/' or '@' makes the URL unparseable or ambiguous, not less secret),
 * each with the password as written and percent-decoded. Taking both readings over-redacts at worst.
 */
export function urlCredentials(url: string): { userinfo: string; password: string; decoded: string }[] {
  const found = new Map<string, { userinfo: string; password: string; decoded: string }>();
  for (const rule of [/^[a-z][a-z0-9+.-]*:\/\/([^/?#@\s]*)@/i, /^[a-z][a-z0-9+.-]*:\/\/(.*)@/is]) {
    const userinfo = rule.exec(url)?.[1];
    const password = userinfo?.includes(':') ? userinfo.slice(userinfo.indexOf(':') + 1) : undefined;
    if (!password || found.has(password)) continue;
    let decoded = password;
    try {
      decoded = decodeURIComponent(password);
    } catch {
      // not percent-encoded as it should be: the text as written is what reaches the logs
    }
    found.set(password, { userinfo: userinfo!, password, decoded });
  }
  return [...found.values()];
}
