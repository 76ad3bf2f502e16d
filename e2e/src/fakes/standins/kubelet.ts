#!/usr/bin/env node
// STAND-IN kubelet for tests: no kubelet binary can be had on these machines. It parses the real kubelet's flags
// (unknown ones fail like the real one), validates the KubeletConfiguration file, reads the kubeconfig, runs its
// exec credential plugin, registers a Node and keeps its Ready condition and node Lease fresh until SIGTERM.
// It runs no pods. Self-contained (node built-ins only, its own small YAML reader) because flexnode downloads
// the kubelet as one file: `installStandin()` in ./install.ts copies it with the Kubernetes version baked in.
// Version: the baked constant, else $KUBELET_STANDIN_VERSION, else a sidecar file `<script>.version`.
// Test knobs: KUBELET_STANDIN_SKIP_CRI_CHECK=1 (Ready without a CRI socket), KUBELET_STANDIN_HEARTBEAT_MS.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import https from 'node:https';
import { isIP } from 'node:net';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const BAKED_VERSION = '__KUBELET_STANDIN_VERSION__';
const TAG = 'kubelet stand-in';

// ------------------------------------------------------------------ minimal YAML (the subset kubeconfigs use)

export function parseYaml(src: string): unknown {
  const t = src.trim();
  if (t.startsWith('{') || t.startsWith('[')) {
    try { return JSON.parse(t); } catch { /* fall through to YAML flow parsing */ }
  }
  const raw = src.replace(/\r\n/g, '\n').split('\n');
  const lines: { ind: number; text: string; n: number }[] = [];
  for (let n = 0; n < raw.length; n++) {
    const r = raw[n];
    if (/^\s*(#.*)?$/.test(r)) continue;
    if (/^(---|\.\.\.)(\s|$)/.test(r)) { if (lines.length) break; continue; } // first document only
    if (/^ *\t/.test(r)) throw new Error(`yaml: line ${n + 1}: found a tab character where an indentation space is expected`);
    lines.push({ ind: r.length - r.trimStart().length, text: stripComment(r.trim()), n });
  }
  let i = 0;
  const fail = (msg: string): never => { throw new Error(`yaml: line ${(lines[i]?.n ?? raw.length) + 1}: ${msg}`); };
  const isItem = (s: string) => s === '-' || s.startsWith('- ');

  const node = (min: number): unknown => {
    const l = lines[i];
    if (!l || l.ind < min) return null;
    if (isItem(l.text)) return seq(l.ind);
    if (splitKey(l.text)) return map(l.ind);
    i++;
    return scalar(l.text);
  };
  const seq = (ind: number): unknown[] => {
    const out: unknown[] = [];
    while (i < lines.length && lines[i].ind === ind && isItem(lines[i].text)) {
      const l = lines[i];
      const rest = l.text.slice(1).trimStart();
      if (!rest) { i++; out.push(node(ind + 1)); continue; }
      // "- key: v" is a mapping indented at the item's content column.
      lines[i] = { ind: ind + (l.text.length - rest.length), text: rest, n: l.n };
      out.push(node(lines[i].ind));
    }
    return out;
  };
  const map = (ind: number): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    while (i < lines.length && lines[i].ind === ind && !isItem(lines[i].text)) {
      const cur = lines[i];
      const kv = splitKey(cur.text) ?? fail(`could not find expected ':'`);
      i++;
      if (kv.rest === '') {
        const nx = lines[i];
        out[kv.key] = nx && (nx.ind > ind || (nx.ind === ind && isItem(nx.text))) ? node(nx.ind) : null;
      } else if (/^[|>]/.test(kv.rest)) {
        const { value, lastRaw } = block(raw, kv.rest, cur.n, ind);
        out[kv.key] = value;
        while (i < lines.length && lines[i].n <= lastRaw) i++;
      } else out[kv.key] = scalar(kv.rest);
    }
    return out;
  };
  const doc = node(0);
  if (i < lines.length) fail('did not find expected key (bad indentation?)');
  return doc;
}

function stripComment(s: string): string {
  let q = '';
  for (let k = 0; k < s.length; k++) {
    const c = s[k];
    if (q) { if (c === q && !(q === '"' && s[k - 1] === '\\')) q = ''; continue; }
    if ((c === '"' || c === "'") && (k === 0 || /[\s:[{,-]/.test(s[k - 1]))) q = c;
    else if (c === '#' && (k === 0 || /\s/.test(s[k - 1]))) return s.slice(0, k).trimEnd();
  }
  return s;
}

function splitKey(text: string): { key: string; rest: string } | undefined {
  if (text.startsWith('"') || text.startsWith("'")) {
    const end = quotedEnd(text, 0);
    const m = /^\s*:(?:\s+(.*))?$/.exec(text.slice(end));
    return m ? { key: String(scalar(text.slice(0, end))), rest: (m[1] ?? '').trim() } : undefined;
  }
  const m = /^([^\s#'"[\]{},&*!|>%@`][^:]*?|[^\s:]*?)\s*:(?:\s+(.*))?$/.exec(text);
  if (!m || m[1] === '' || /^[[{]/.test(text)) return undefined;
  return { key: m[1], rest: (m[2] ?? '').trim() };
}

function quotedEnd(s: string, start: number): number {
  const q = s[start];
  for (let k = start + 1; k < s.length; k++) {
    if (q === '"' && s[k] === '\\') { k++; continue; }
    if (s[k] === q) { if (q === "'" && s[k + 1] === "'") { k++; continue; } return k + 1; }
  }
  throw new Error(`yaml: unterminated quoted scalar: ${s}`);
}

function scalar(s: string): unknown {
  s = s.trim();
  if (s.startsWith('"')) return JSON.parse(s.slice(0, quotedEnd(s, 0)).replace(/\\\//g, '/'));
  if (s.startsWith("'")) return s.slice(1, quotedEnd(s, 0) - 1).replace(/''/g, "'");
  if (s.startsWith('[') || s.startsWith('{')) return flow(s);
  if (s === '' || s === '~' || /^(null|Null|NULL)$/.test(s)) return null;
  if (/^(true|True|TRUE)$/.test(s)) return true;
  if (/^(false|False|FALSE)$/.test(s)) return false;
  if (/^[-+]?\d+$/.test(s)) return Number(s);
  if (/^0x[0-9a-fA-F]+$/.test(s)) return parseInt(s, 16);
  if (/^0o[0-7]+$/.test(s)) return parseInt(s.slice(2), 8);
  if (/^[-+]?(\.\d+|\d+(\.\d*)?)([eE][-+]?\d+)?$/.test(s)) return Number(s);
  if (/^[-+]?\.(inf|Inf|INF)$/.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  if (/^\.(nan|NaN|NAN)$/.test(s)) return NaN;
  return s;
}

function flow(s: string): unknown {
  let p = 0;
  const ws = () => { while (p < s.length && /\s/.test(s[p])) p++; };
  const plain = (stops: RegExp): string => {
    const st = p;
    while (p < s.length && !stops.test(s[p]) && !(s[p] === ':' && /[\s,\]}]/.test(s[p + 1] ?? ' '))) p++;
    return s.slice(st, p).trim();
  };
  const val = (): unknown => {
    ws();
    const c = s[p];
    if (c === '[') {
      p++; const arr: unknown[] = []; ws();
      if (s[p] === ']') { p++; return arr; }
      for (;;) {
        arr.push(val()); ws();
        if (s[p] === ',') { p++; ws(); if (s[p] === ']') { p++; return arr; } continue; }
        if (s[p] === ']') { p++; return arr; }
        throw new Error(`yaml: bad flow sequence: ${s}`);
      }
    }
    if (c === '{') {
      p++; const obj: Record<string, unknown> = {}; ws();
      if (s[p] === '}') { p++; return obj; }
      for (;;) {
        ws();
        const key = s[p] === '"' || s[p] === "'" ? String(scalar(s.slice(p, (p = quotedEnd(s, p))))) : plain(/[,}]/);
        ws();
        let v: unknown = null;
        if (s[p] === ':') { p++; v = val(); }
        obj[key] = v; ws();
        if (s[p] === ',') { p++; ws(); if (s[p] === '}') { p++; return obj; } continue; }
        if (s[p] === '}') { p++; return obj; }
        throw new Error(`yaml: bad flow mapping: ${s}`);
      }
    }
    if (c === '"' || c === "'") { const st = p; p = quotedEnd(s, p); return scalar(s.slice(st, p)); }
    return scalar(plain(/[,\]}]/));
  };
  const v = val();
  ws();
  if (p < s.length) throw new Error(`yaml: unexpected '${s.slice(p)}' after flow collection`);
  return v;
}

function block(raw: string[], header: string, at: number, parentInd: number): { value: string; lastRaw: number } {
  const h = /^([|>])([-+]?)(\d?)([-+]?)\s*$/.exec(header);
  if (!h) throw new Error(`yaml: line ${at + 1}: bad block scalar header ${header}`);
  const chomp = h[2] || h[4];
  let ind = h[3] ? parentInd + Number(h[3]) : -1;
  const body: string[] = [];
  let n = at + 1;
  for (; n < raw.length; n++) {
    const r = raw[n];
    if (/^\s*$/.test(r)) { body.push(''); continue; }
    const li = r.length - r.trimStart().length;
    if (ind < 0) ind = li;
    if (li < ind || li <= parentInd) break;
    body.push(r.slice(ind));
  }
  let trailing = 0;
  while (body.length && body[body.length - 1] === '') { body.pop(); trailing++; }
  let text = h[1] === '|' ? body.join('\n')
    : body.reduce((acc, l, k) => (k === 0 ? l : l === '' ? `${acc}\n` : acc.endsWith('\n') ? acc + l : `${acc} ${l}`), '');
  if (chomp === '+') text += '\n'.repeat(trailing + 1);
  else if (chomp !== '-' && body.length) text += '\n';
  return { value: text, lastRaw: n - 1 };
}

// ------------------------------------------------------------------ flags

class Fatal extends Error {}

const VALUE_FLAGS = new Set(['config', 'kubeconfig', 'bootstrap-kubeconfig', 'container-runtime-endpoint', 'hostname-override',
  'node-ip', 'node-labels', 'register-with-taints', 'v', 'cert-dir', 'root-dir', 'authorization-mode', 'cgroup-driver',
  'eviction-hard', 'kube-reserved', 'system-reserved', 'max-pods', 'read-only-port', 'client-ca-file', 'cluster-dns',
  'cluster-domain', 'pod-infra-container-image', 'image-credential-provider-config', 'image-credential-provider-bin-dir',
  'runtime-request-timeout', 'feature-gates', 'logging-format', 'pod-manifest-path', 'volume-plugin-dir', 'provider-id',
  'cloud-provider', 'tls-cert-file', 'tls-private-key-file', 'node-status-update-frequency', 'enforce-node-allocatable',
  'kubelet-cgroups', 'runtime-cgroups', 'resolv-conf', 'address', 'pod-max-pids', 'image-gc-high-threshold',
  'image-gc-low-threshold', 'streaming-connection-idle-timeout', 'tls-cipher-suites', 'vmodule']);
const BOOL_FLAGS = new Set(['anonymous-auth', 'authentication-token-webhook', 'protect-kernel-defaults', 'register-node',
  'rotate-certificates', 'rotate-server-certificates', 'fail-swap-on', 'serialize-image-pulls', 'help']);
// Flags the real kubelet deprecates in favour of the config file (it prints this warning for each).
const VIA_CONFIG = new Set(['anonymous-auth', 'authentication-token-webhook', 'authorization-mode', 'cgroup-driver',
  'client-ca-file', 'cluster-dns', 'cluster-domain', 'eviction-hard', 'kube-reserved', 'system-reserved', 'max-pods',
  'protect-kernel-defaults', 'read-only-port', 'register-with-taints', 'runtime-request-timeout', 'feature-gates',
  'pod-manifest-path', 'volume-plugin-dir', 'provider-id', 'tls-cert-file', 'tls-private-key-file',
  'node-status-update-frequency', 'enforce-node-allocatable', 'kubelet-cgroups', 'rotate-certificates', 'fail-swap-on',
  'container-runtime-endpoint', 'serialize-image-pulls', 'resolv-conf', 'address', 'pod-max-pids', 'image-gc-high-threshold',
  'image-gc-low-threshold', 'streaming-connection-idle-timeout', 'tls-cipher-suites', 'rotate-server-certificates']);
// Flags whose fate depends on the kubelet's minor version (kubernetes cmd/kubelet/app/options/container_runtime.go:
// --pod-infra-container-image deprecated in 1.27, removed in 1.35; CHANGELOG-1.35 "Urgent Upgrade Notes").
const VERSIONED: Record<string, { deprecated: number; removed: number; message: string }> = {
  'pod-infra-container-image': { deprecated: 27, removed: 35, message: 'will be removed in 1.35. Image garbage collector will get sandbox image information from CRI.' },
};
const kubeletMinor = () => Number(/^v1\.(\d+)\./.exec(kubeletVersion())?.[1] ?? 0);

export function parseFlags(argv: string[]): { flags: Map<string, string>; version?: string } {
  const flags = new Map<string, string>();
  let version: string | undefined;
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k];
    const m = /^--?([^=]+)(?:=(.*))?$/.exec(a);
    if (!m) continue; // positional arguments are ignored by the kubelet
    const name = a.startsWith('--') ? m[1] : m[1] === 'v' ? 'v' : m[1] === 'h' ? 'help' : '';
    if (!name) throw new Fatal(`failed to parse kubelet flag: unknown shorthand flag: '${m[1][0]}' in ${a}`);
    if (name === 'version') { version = m[2] ?? 'true'; continue; }
    const fate = VERSIONED[name];
    if (fate && kubeletMinor() >= fate.removed) throw new Fatal(`failed to parse kubelet flag: unknown flag: --${name}`);
    if (fate && kubeletMinor() >= fate.deprecated) log('W', `Flag --${name} has been deprecated, ${fate.message}`);
    if (BOOL_FLAGS.has(name)) {
      if (m[2] !== undefined && !/^(true|false|1|0|t|f|TRUE|FALSE|True|False)$/.test(m[2])) {
        throw new Fatal(`failed to parse kubelet flag: invalid argument "${m[2]}" for "--${name}" flag: strconv.ParseBool: parsing "${m[2]}": invalid syntax`);
      }
      flags.set(name, m[2] ?? 'true');
    } else if (VALUE_FLAGS.has(name)) {
      const v = m[2] ?? argv[++k];
      if (v === undefined) throw new Fatal(`failed to parse kubelet flag: flag needs an argument: --${name}`);
      flags.set(name, v);
    } else throw new Fatal(`failed to parse kubelet flag: unknown flag: --${name}`);
    if (VIA_CONFIG.has(name)) {
      log('W', `Flag --${name} has been deprecated, This parameter should be set via the config file specified by the Kubelet's --config flag. See https://kubernetes.io/docs/tasks/administer-cluster/kubelet-config-file/ for more information.`);
    }
  }
  return { flags, version };
}

function kubeletVersion(): string {
  if (!BAKED_VERSION.startsWith('__')) return BAKED_VERSION;
  if (process.env.KUBELET_STANDIN_VERSION) return normVersion(process.env.KUBELET_STANDIN_VERSION);
  try {
    return normVersion(readFileSync(`${realpathSync(process.argv[1])}.version`, 'utf8').trim());
  } catch {
    return 'v0.0.0-standin';
  }
}

function normVersion(v: string): string {
  return v.startsWith('v') ? v : `v${v}`;
}

const ALLOWED_K8S_LABELS = new Set(['beta.kubernetes.io/arch', 'beta.kubernetes.io/instance-type', 'beta.kubernetes.io/os',
  'failure-domain.beta.kubernetes.io/region', 'failure-domain.beta.kubernetes.io/zone', 'kubernetes.io/arch',
  'kubernetes.io/hostname', 'kubernetes.io/os', 'node.kubernetes.io/instance-type', 'topology.kubernetes.io/region',
  'topology.kubernetes.io/zone']);

/** --node-labels k=v,...; like the real kubelet, refuses labels in the kubernetes.io / k8s.io namespaces it does not allow. */
export function parseNodeLabels(s: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const bad: string[] = [];
  for (const kv of (s ?? '').split(',').map((x) => x.trim()).filter(Boolean)) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new Fatal(`failed to parse kubelet flag: invalid argument "${s}" for "--node-labels" flag: ${kv} must be formatted as key=value`);
    const key = kv.slice(0, i);
    out[key] = kv.slice(i + 1);
    const ns = key.includes('/') ? key.split('/')[0] : '';
    const k8sNs = /(^|\.)(kubernetes\.io|k8s\.io)$/.test(ns);
    const allowedPrefix = /(^|\.)(kubelet|node)\.kubernetes\.io$/.test(ns);
    if (k8sNs && !allowedPrefix && !ALLOWED_K8S_LABELS.has(key)) bad.push(key);
  }
  if (bad.length) {
    throw new Fatal(`failed to validate kubelet flags: unknown 'kubernetes.io' or 'k8s.io' labels specified with --node-labels: [${bad.join(' ')}]\n`
      + "--node-labels in the 'kubernetes.io' namespace must begin with an allowed prefix (kubelet.kubernetes.io, node.kubernetes.io) or be in the specifically allowed set (" + [...ALLOWED_K8S_LABELS].join(', ') + ')');
  }
  return out;
}

type Taint = { key: string; value?: string; effect: string };

export function parseTaints(list: string[]): Taint[] {
  return list.map((t) => {
    const m = /^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(t);
    if (!m) throw new Fatal(`invalid taint spec: ${t}: expected key[=value]:NoSchedule|PreferNoSchedule|NoExecute`);
    return { key: m[1], ...(m[2] !== undefined ? { value: m[2] } : {}), effect: m[3] };
  });
}

function duration(s: unknown, dflt: number): number {
  if (typeof s !== 'string') return dflt;
  let ms = 0;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) ms += Number(m[1]) * ({ ms: 1, s: 1000, m: 60000, h: 3600000 } as Record<string, number>)[m[2]];
  return ms || dflt;
}

// ------------------------------------------------------------------ kubeconfig and credentials

type Dict = Record<string, unknown>;

interface ApiTarget {
  url: URL;
  tls: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized: boolean };
  creds: Credentials;
}

function namedEntry(list: unknown, name: unknown, what: string, path: string): Dict {
  const found = (Array.isArray(list) ? list : []).find((e: Dict) => e?.name === name) as Dict | undefined;
  if (!found) throw new Fatal(`invalid kubeconfig ${path}: ${what} "${String(name)}" not found`);
  return (found[what === 'context' ? 'context' : what] ?? {}) as Dict;
}

function fileOrData(data: unknown, file: unknown, base: string): Buffer | undefined {
  if (typeof data === 'string' && data) return Buffer.from(data, 'base64');
  if (typeof file === 'string' && file) return readFileSync(resolve(base, file));
  return undefined;
}

function loadKubeconfig(path: string): ApiTarget {
  let kc: Dict;
  try {
    kc = parseYaml(readFileSync(path, 'utf8')) as Dict;
  } catch (e) {
    throw new Fatal(`invalid kubeconfig: failed to load ${path}: ${(e as Error).message}`);
  }
  const base = dirname(path);
  const ctxName = kc['current-context'];
  const ctx = namedEntry(kc.contexts, ctxName, 'context', path);
  const cluster = namedEntry(kc.clusters, ctx.cluster, 'cluster', path);
  const user = namedEntry(kc.users, ctx.user, 'user', path);
  if (typeof cluster.server !== 'string') throw new Fatal(`invalid kubeconfig ${path}: no server found for cluster "${String(ctx.cluster)}"`);
  const tls = {
    ca: fileOrData(cluster['certificate-authority-data'], cluster['certificate-authority'], base),
    cert: fileOrData(user['client-certificate-data'], user['client-certificate'], base),
    key: fileOrData(user['client-key-data'], user['client-key'], base),
    rejectUnauthorized: cluster['insecure-skip-tls-verify'] !== true,
  };
  return { url: new URL(cluster.server), tls, creds: new Credentials(user, base, cluster) };
}

/** Bearer token from the kubeconfig user: static token, tokenFile, or an exec plugin (cached until it expires). */
class Credentials {
  private cached?: { token: string; exp: number };
  execRuns = 0;

  constructor(private readonly user: Dict, private readonly base: string, private readonly cluster: Dict) {}

  get refreshable(): boolean {
    return !!this.user.exec || !!this.user.tokenFile;
  }

  async token(forceRefresh = false): Promise<string | undefined> {
    if (typeof this.user.token === 'string') return this.user.token;
    if (typeof this.user.tokenFile === 'string') return readFileSync(resolve(this.base, this.user.tokenFile), 'utf8').trim();
    if (!this.user.exec) return undefined;
    if (!forceRefresh && this.cached && this.cached.exp > Date.now()) return this.cached.token;
    this.cached = await this.runExec(this.user.exec as Dict);
    return this.cached.token;
  }

  private runExec(exec: Dict): Promise<{ token: string; exp: number }> {
    const apiVersion = String(exec.apiVersion ?? '');
    if (!/^client\.authentication\.k8s\.io\/(v1|v1beta1)$/.test(apiVersion)) {
      return Promise.reject(new Error(`exec plugin: invalid apiVersion "${apiVersion}"`));
    }
    let command = String(exec.command ?? '');
    // client-go resolves a relative command containing a path separator against the kubeconfig's directory.
    if (command.includes('/') && !command.startsWith('/')) command = resolve(this.base, command);
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const e of (exec.env ?? []) as { name: string; value: string }[]) env[e.name] = e.value;
    env.KUBERNETES_EXEC_INFO = JSON.stringify({
      kind: 'ExecCredential', apiVersion,
      spec: { interactive: false, ...(exec.provideClusterInfo ? { cluster: { server: this.cluster.server, 'certificate-authority-data': this.cluster['certificate-authority-data'] } } : {}) },
    });
    this.execRuns++;
    return new Promise((res, rej) => {
      const child = spawn(command, ((exec.args ?? []) as unknown[]).map(String), { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => { out += d; });
      child.stderr.on('data', (d) => { err += d; });
      child.on('error', (e) => rej(new Error(`exec plugin: ${command}: ${e.message}${exec.installHint ? `\n${String(exec.installHint)}` : ''}`)));
      child.on('close', (code) => {
        if (code !== 0) return rej(new Error(`exec plugin: ${command} exited with ${code}: ${err.trim()}`));
        try {
          const cred = JSON.parse(out) as { apiVersion?: string; kind?: string; status?: { token?: string; expirationTimestamp?: string } };
          if (cred.kind !== 'ExecCredential') throw new Error(`kind "${cred.kind}" is not ExecCredential`);
          if (cred.apiVersion !== apiVersion) throw new Error(`plugin returned version ${cred.apiVersion}, expected ${apiVersion}`);
          if (!cred.status?.token) throw new Error('exec plugin did not return a status.token');
          const exp = cred.status.expirationTimestamp ? Date.parse(cred.status.expirationTimestamp) : Infinity;
          log('I', `exec credential plugin returned a token${Number.isFinite(exp) ? ` expiring ${cred.status.expirationTimestamp}` : ''}`);
          res({ token: cred.status.token, exp });
        } catch (e) {
          rej(new Error(`exec plugin: decoding stdout: ${(e as Error).message}`));
        }
      });
    });
  }
}

class ApiClient {
  private readonly agent: https.Agent;

  constructor(private readonly t: ApiTarget) {
    this.agent = new https.Agent({ keepAlive: true, ...t.tls });
  }

  async call(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; json: Dict }> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.t.creds.token(attempt > 0);
      const r = await this.once(method, path, token, body, contentType);
      // client-go re-runs the exec plugin once on 401.
      if (r.status === 401 && attempt === 0 && this.t.creds.refreshable) continue;
      return r;
    }
  }

  private once(method: string, path: string, token: string | undefined, body: unknown, contentType: string): Promise<{ status: number; json: Dict }> {
    const u = this.t.url;
    const text = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((res, rej) => {
      const req = https.request({
        agent: this.agent, method, host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port || 443,
        path: u.pathname.replace(/\/$/, '') + path,
        servername: isIP(u.hostname.replace(/^\[|\]$/g, '')) ? undefined : u.hostname,
        headers: {
          accept: 'application/json', 'user-agent': `kubelet/${kubeletVersion()} (linux/${arch()}) kubernetes/stand-in`,
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(text ? { 'content-type': contentType, 'content-length': Buffer.byteLength(text) } : {}),
        },
        timeout: 10000,
      }, (resp) => {
        let data = '';
        resp.on('data', (d) => { data += d; });
        resp.on('end', () => {
          let json: Dict = {};
          try { json = data ? JSON.parse(data) as Dict : {}; } catch { json = { message: data }; }
          res({ status: resp.statusCode ?? 0, json });
        });
      });
      req.on('timeout', () => req.destroy(new Error('request timed out')));
      req.on('error', rej);
      req.end(text);
    });
  }
}

// ------------------------------------------------------------------ the node

function arch(): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' } as Record<string, string>)[process.arch] ?? process.arch;
}

function readOr(path: string, dflt: string): string {
  try { return readFileSync(path, 'utf8').trim(); } catch { return dflt; }
}

function osImage(): string {
  return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readOr('/etc/os-release', ''))?.[1] ?? 'Linux';
}

function log(level: 'I' | 'W' | 'E', msg: string): void {
  const d = new Date();
  const ts = `${String(d.getMonth() + 1).padStart(2, '0')}${String(d.getDate()).padStart(2, '0')} ${d.toISOString().slice(11, 23)}`;
  process.stderr.write(`${level}${ts} ${String(process.pid).padStart(7)} ${TAG}] ${msg}\n`);
}

interface NodeSettings {
  name: string;
  labels: Record<string, string>;
  taints: Taint[];
  nodeIps: string[];
  maxPods: number;
  providerId?: string;
  criSocket?: string;
  heartbeatMs: number;
  leaseSeconds: number;
}

function criReady(s: NodeSettings): { ok: boolean; why: string } {
  if (process.env.KUBELET_STANDIN_SKIP_CRI_CHECK === '1' || !s.criSocket) return { ok: true, why: '' };
  try {
    if (statSync(s.criSocket).isSocket()) return { ok: true, why: '' };
  } catch { /* missing */ }
  return { ok: false, why: `container runtime is down: no CRI socket at ${s.criSocket} (stand-in check)` };
}

function conditions(s: NodeSettings, since: string): Dict[] {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const cri = criReady(s);
  const c = (type: string, status: string, reason: string, message: string) =>
    ({ type, status, reason, message, lastHeartbeatTime: now, lastTransitionTime: since });
  return [
    c('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
    c('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
    c('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
    cri.ok ? c('Ready', 'True', 'KubeletReady', `kubelet is posting ready status (${TAG})`) : c('Ready', 'False', 'KubeletNotReady', cri.why),
  ];
}

function nodeObject(s: NodeSettings, since: string): Dict {
  const version = kubeletVersion();
  const capacity = { cpu: String(os.cpus().length), memory: `${Math.floor(os.totalmem() / 1024)}Ki`, pods: String(s.maxPods), 'ephemeral-storage': '10Gi' };
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: {
      name: s.name,
      labels: { 'kubernetes.io/hostname': s.name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': arch(),
        'beta.kubernetes.io/os': 'linux', 'beta.kubernetes.io/arch': arch(), ...s.labels },
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
        'flexnode.test/stand-in': 'kubelet' },
    },
    spec: { ...(s.taints.length ? { taints: s.taints } : {}), ...(s.providerId ? { providerID: s.providerId } : {}) },
    status: {
      capacity, allocatable: capacity,
      conditions: conditions(s, since),
      addresses: [...s.nodeIps.map((ip) => ({ type: 'InternalIP', address: ip })), { type: 'Hostname', address: s.name }],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: readOr('/etc/machine-id', ''), systemUUID: readOr('/sys/class/dmi/id/product_uuid', ''),
        bootID: readOr('/proc/sys/kernel/random/boot_id', ''), kernelVersion: os.release(), osImage: osImage(),
        containerRuntimeVersion: 'containerd://stand-in', kubeletVersion: version, kubeProxyVersion: '',
        operatingSystem: 'linux', architecture: arch(),
      },
    },
  };
}

function loadKubeletConfig(path: string): Dict {
  let cfg: Dict;
  try {
    cfg = parseYaml(readFileSync(path, 'utf8')) as Dict;
  } catch (e) {
    throw new Fatal(`failed to load kubelet config file, path: ${path}, error: ${(e as Error).message}`);
  }
  if (cfg?.kind !== 'KubeletConfiguration' || cfg?.apiVersion !== 'kubelet.config.k8s.io/v1beta1') {
    throw new Fatal(`failed to load kubelet config file, path: ${path}, error: failed to decode: no kind "${String(cfg?.kind)}" is registered for version "${String(cfg?.apiVersion)}" in scheme "pkg/kubelet/apis/config/scheme/scheme.go:33"`);
  }
  if (cfg.cgroupDriver !== undefined && !['systemd', 'cgroupfs'].includes(String(cfg.cgroupDriver))) {
    throw new Fatal(`invalid configuration: cgroupDriver (--cgroup-driver) ${String(cfg.cgroupDriver)} is not supported: expected systemd or cgroupfs`);
  }
  return cfg;
}

function settings(flags: Map<string, string>, cfg: Dict): NodeSettings {
  const name = (flags.get('hostname-override') ?? os.hostname()).trim().toLowerCase();
  const taints = parseTaints([
    ...((cfg.registerWithTaints ?? []) as Taint[]).map((t) => `${t.key}${t.value !== undefined ? `=${t.value}` : ''}:${t.effect}`),
    ...(flags.get('register-with-taints')?.split(',').filter(Boolean) ?? []),
  ]);
  const endpoint = flags.get('container-runtime-endpoint') ?? (cfg.containerRuntimeEndpoint as string | undefined) ?? 'unix:///run/containerd/containerd.sock';
  return {
    name,
    labels: parseNodeLabels(flags.get('node-labels')),
    taints,
    nodeIps: (flags.get('node-ip') ?? '').split(',').filter(Boolean),
    maxPods: Number(flags.get('max-pods') ?? cfg.maxPods ?? 110),
    providerId: flags.get('provider-id') ?? (cfg.providerID as string | undefined),
    criSocket: endpoint.startsWith('unix://') ? endpoint.slice('unix://'.length) : undefined,
    heartbeatMs: Number(process.env.KUBELET_STANDIN_HEARTBEAT_MS) || duration(flags.get('node-status-update-frequency') ?? cfg.nodeStatusUpdateFrequency, 5000),
    leaseSeconds: Number(cfg.nodeLeaseDurationSeconds ?? 40),
  };
}

async function register(api: ApiClient, s: NodeSettings, since: string, stopped: () => boolean): Promise<string | undefined> {
  for (let delay = 500; !stopped(); delay = Math.min(delay * 2, 7000)) {
    try {
      const r = await api.call('POST', '/api/v1/nodes', nodeObject(s, since));
      if (r.status === 201) { log('I', `Successfully registered node "${s.name}"`); return String((r.json.metadata as Dict).uid); }
      if (r.status === 409) {
        const g = await api.call('GET', `/api/v1/nodes/${s.name}`);
        if (g.status === 200) { log('I', `Node "${s.name}" was previously registered`); return String((g.json.metadata as Dict).uid); }
      }
      log('E', `Unable to register node with API server: HTTP ${r.status}: ${String(r.json.message ?? '')} node="${s.name}"`);
    } catch (e) {
      log('E', `Unable to register node with API server: ${(e as Error).message} node="${s.name}"`);
    }
    await new Promise((res) => setTimeout(res, delay));
  }
  return undefined;
}

async function heartbeat(api: ApiClient, s: NodeSettings, since: string, uid: string): Promise<void> {
  const now = new Date().toISOString().replace('Z', '000Z');
  const leasePath = `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${s.name}`;
  const spec = { holderIdentity: s.name, leaseDurationSeconds: s.leaseSeconds, renewTime: now };
  const got = await api.call('GET', leasePath);
  if (got.status === 404) {
    await api.call('POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', {
      apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
      metadata: { name: s.name, namespace: 'kube-node-lease', ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: s.name, uid }] },
      spec,
    });
  } else if (got.status === 200) {
    await api.call('PUT', leasePath, { ...got.json, spec: { ...(got.json.spec as Dict), ...spec } });
  } else log('E', `failed to ensure lease: HTTP ${got.status}: ${String(got.json.message ?? '')}`);
  const r = await api.call('PATCH', `/api/v1/nodes/${s.name}/status`, { status: { conditions: conditions(s, since) } },
    'application/strategic-merge-patch+json');
  if (r.status !== 200) log('E', `Error updating node status, will retry: HTTP ${r.status}: ${String(r.json.message ?? '')}`);
}

async function main(argv: string[]): Promise<void> {
  const { flags, version } = parseFlags(argv);
  if (version !== undefined && version !== 'false') {
    console.log(version === 'raw' ? JSON.stringify({ gitVersion: kubeletVersion(), platform: `linux/${arch()}` }) : `Kubernetes ${kubeletVersion()}`);
    return;
  }
  if (flags.has('help')) {
    console.log(`The kubelet ${TAG}: registers a Node and reports it Ready; runs no pods.\n\nUsage:\n  kubelet [flags]`);
    return;
  }
  const cfg = flags.has('config') ? loadKubeletConfig(flags.get('config')!) : {};
  const s = settings(flags, cfg);
  log('I', `Kubelet version kubeletVersion="${kubeletVersion()}" (${TAG})`);
  let kubeconfig = flags.get('kubeconfig');
  if (kubeconfig && !existsSync(kubeconfig)) {
    if (flags.has('bootstrap-kubeconfig')) throw new Fatal(`TLS bootstrap (--bootstrap-kubeconfig without ${kubeconfig}) is not supported by the ${TAG}`);
    throw new Fatal(`invalid kubeconfig: stat ${kubeconfig}: no such file or directory`);
  }
  let stop = false;
  const timers: NodeJS.Timeout[] = [];
  const done = new Promise<void>((res) => {
    const bye = (sig: string) => { log('I', `Received ${sig}, shutting down`); stop = true; timers.forEach(clearTimeout); res(); };
    process.once('SIGTERM', () => bye('SIGTERM'));
    process.once('SIGINT', () => bye('SIGINT'));
  });
  if (!kubeconfig) {
    log('W', 'No kubeconfig: standalone mode, not registering a node');
    return done;
  }
  const api = new ApiClient(loadKubeconfig(kubeconfig));
  const since = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const uid = await register(api, s, since, () => stop);
  if (!uid) return done;
  const beat = async () => {
    if (stop) return;
    try { await heartbeat(api, s, since, uid); } catch (e) { log('E', `heartbeat failed: ${(e as Error).message}`); }
    if (!stop) timers.push(setTimeout(beat, s.heartbeatMs));
  };
  await beat();
  return done;
}

const isMain = (() => {
  try { return import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href; } catch { return false; }
})();
if (isMain) {
  main(process.argv.slice(2)).then(() => process.exit(0), (e: unknown) => {
    log('E', `"command failed" err="${(e as Error).message}"`);
    if (!(e instanceof Fatal)) process.stderr.write(`${(e as Error).stack}\n`);
    process.exit(1);
  });
}
