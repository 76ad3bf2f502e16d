#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS SSL_CERT_FILE=${NODE_EXTRA_CA_CERTS} node --use-openssl-ca
// STAND-IN for the Azure Connected Machine agent CLI (`azcmagent`), which cannot be installed on test machines.
// Run as a file, it trusts the CA that flexnode's environment names (the fakes') through OpenSSL's store, read when
// it first connects, instead of NODE_EXTRA_CA_CERTS, which Node 20 reads at every start (~20 ms): the real agent is
// a Go binary whose `show` costs flexnode no such thing, and the bench times status with it (GNU env's -S).
// Self-contained (node built-ins only) so the compiled file can be copied anywhere and run as `azcmagent`
// (chmod +x; Node >= 20.19 detects ESM syntax in an extensionless file).
//   connect     creates the machine resource with a system-assigned identity through the FAKE ARM's admin
//               endpoint ($AZCMAGENT_STANDIN_ARM, trusted through NODE_EXTRA_CA_CERTS)
//   disconnect  deletes it; show [-j]; version
//   config get|set|clear|list  the agent's local settings (learn.microsoft.com/azure/azure-arc/servers/azcmagent-config):
//               proxy.url, proxy.bypass (AAD, ARM, Arc, ArcData), ...; `get` prints the value alone; `show` reports
//               them as httpsProxy and proxyBypassList, as the real agent shows its effective proxy
// State: JSON file at $AZCMAGENT_STANDIN_STATE (default /var/opt/azcmagent/standin-state.json); settings at
// $AZCMAGENT_STANDIN_CONFIG (default: beside the state), kept across disconnect like the real agent's, and the
// file removed when the last setting is cleared.
// Service-principal auth against a fake Entra needs $AZCMAGENT_STANDIN_AUTHORITY (its authorityHost).
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';

const VERSION = '1.50.02997.1';
const STANDIN = 'stand-in for tests, not the Azure Connected Machine agent';
const STATE = process.env.AZCMAGENT_STANDIN_STATE ?? '/var/opt/azcmagent/standin-state.json';
const CLOUDS = ['AzureCloud', 'AzureUSGovernment', 'AzureChinaCloud'];
const SECRET_FLAGS = ['access-token', 'service-principal-secret'];
const SETTINGS = process.env.AZCMAGENT_STANDIN_CONFIG ?? STATE.replace(/(\.json)?$/, '-config.json');
/** The properties the stand-in knows, with the values the real agent accepts (azcmagent config info). */
const PROPERTIES: Record<string, (v: string) => boolean> = {
  'proxy.url': (v) => /^https?:\/\/[^\s]+$/.test(v),
  'proxy.bypass': (v) => v.split(',').every((s) => ['AAD', 'ARM', 'Arc', 'ArcData'].includes(s.trim())),
  'incomingconnections.ports': (v) => /^\d+(,\d+)*$/.test(v),
  'config.mode': (v) => ['full', 'monitor'].includes(v),
};

class CliError extends Error {
  constructor(
    message: string,
    readonly code = 1,
  ) {
    super(message);
  }
}

interface FlagSpec {
  name: string;
  short?: string;
  bool?: boolean;
}
const COMMON: FlagSpec[] = [
  { name: 'json', short: 'j', bool: true },
  { name: 'verbose', short: 'v', bool: true },
  { name: 'help', short: 'h', bool: true },
  { name: 'log-stderr', bool: true },
  { name: 'config' },
];
const AUTH: FlagSpec[] = [
  { name: 'access-token' },
  { name: 'service-principal-id' },
  { name: 'service-principal-secret' },
  { name: 'service-principal-cert' },
  { name: 'use-device-code', bool: true },
  { name: 'use-azcli', bool: true },
];
const CONNECT: FlagSpec[] = [
  ...COMMON,
  ...AUTH,
  { name: 'resource-group' },
  { name: 'tenant-id' },
  { name: 'location' },
  { name: 'subscription-id' },
  { name: 'resource-name' },
  { name: 'tags' },
  { name: 'cloud' },
  { name: 'correlation-id' },
  { name: 'private-link-scope' },
  { name: 'ignore-network-check', bool: true },
  { name: 'enable-automatic-upgrade', bool: true },
  { name: 'gateway-id' },
];
const DISCONNECT: FlagSpec[] = [...COMMON, ...AUTH, { name: 'force-local-only', short: 'f', bool: true }];

interface State {
  status: 'Connected' | 'Disconnected';
  resourceName: string;
  resourceGroup: string;
  subscriptionId: string;
  tenantId: string;
  location: string;
  cloud: string;
  vmId: string;
  vmUuid: string;
  correlationId: string;
  tags: Record<string, string>;
  principalId?: string;
  connectedAt: string;
  authMode: string;
  /** Names of secret flags that were given on the command line (visible in /proc): tests assert it stays empty. */
  secretsOnArgv: string[];
  /** argv of the last connect, secrets redacted. */
  argv: string[];
}

function parse(args: string[], specs: FlagSpec[]): { flags: Record<string, string | true>; onArgv: Set<string> } {
  const flags: Record<string, string | true> = {};
  const onArgv = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const m = /^(--?)([^=]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new CliError(`Error: unknown command "${a}" for "azcmagent"`);
    const spec = m[1] === '--' ? specs.find((s) => s.name === m[2]) : specs.find((s) => s.short === m[2]);
    if (!spec) throw new CliError(m[1] === '--' ? `Error: unknown flag: --${m[2]}` : `Error: unknown shorthand flag: '${m[2][0]}' in ${a}`);
    if (spec.bool) flags[spec.name] = m[3] === undefined ? true : String(m[3] !== 'false');
    else {
      const v = m[3] ?? args[++i];
      if (v === undefined) throw new CliError(`Error: flag needs an argument: --${spec.name}`);
      flags[spec.name] = v;
      onArgv.add(spec.name);
    }
  }
  return { flags, onArgv };
}

/** `--config FILE`: JSON with flag names as keys (the real agent also takes YAML; the stand-in JSON only). */
function withConfigFile(flags: Record<string, string | true>, specs: FlagSpec[]): Record<string, string | true> {
  const file = flags.config;
  if (typeof file !== 'string') return flags;
  let cfg: Record<string, unknown>;
  try {
    cfg = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new CliError(`Error: failed to read config file ${file}: ${(e as Error).message} (the stand-in reads JSON config files only)`);
  }
  const out = { ...flags };
  for (const [k, v] of Object.entries(cfg)) {
    if (!specs.some((s) => s.name === k)) throw new CliError(`Error: unknown key "${k}" in config file ${file}`);
    if (out[k] === undefined) out[k] = typeof v === 'boolean' ? (v ? true : 'false') : String(v);
  }
  return out;
}

function required(flags: Record<string, string | true>, names: string[]): void {
  const missing = names.filter((n) => typeof flags[n] !== 'string' || flags[n] === '');
  if (missing.length) throw new CliError(`Error: required flag(s) ${missing.map((n) => `"${n}"`).join(', ')} not set`);
}

function readState(): State | undefined {
  if (!existsSync(STATE)) return undefined;
  return JSON.parse(readFileSync(STATE, 'utf8')) as State;
}

function writeState(s: State): void {
  mkdirSync(dirname(STATE), { recursive: true });
  const tmp = `${STATE}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(s, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, STATE);
}

async function token(flags: Record<string, string | true>, tenantId: string): Promise<{ token?: string; mode: string }> {
  if (flags['use-device-code'] || flags['use-azcli']) {
    throw new CliError(
      'Error: AZCM0044: interactive and Azure CLI login are not available in the azcmagent stand-in; use --access-token or a service principal',
    );
  }
  if (typeof flags['access-token'] === 'string') return { token: flags['access-token'], mode: 'access-token' };
  const spId = flags['service-principal-id'];
  if (typeof spId === 'string') {
    if (typeof flags['service-principal-cert'] === 'string') {
      if (!existsSync(flags['service-principal-cert']))
        throw new CliError(`Error: AZCM0041: The certificate file ${flags['service-principal-cert']} cannot be read`);
      return { mode: 'service-principal-cert' };
    }
    const secret = flags['service-principal-secret'];
    if (typeof secret !== 'string') throw new CliError('Error: required flag(s) "service-principal-secret" or "service-principal-cert" not set');
    const authority = process.env.AZCMAGENT_STANDIN_AUTHORITY;
    if (!authority) return { mode: 'service-principal-secret' };
    const r = await fetch(`${authority.replace(/\/$/, '')}/${tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: spId, client_secret: secret, scope: 'https://management.azure.com/.default' }),
    });
    const body = (await r.json()) as { access_token?: string; error_description?: string };
    if (!r.ok || !body.access_token) {
      throw new CliError(`Error: AZCM0041: The credentials supplied are invalid: ${body.error_description?.split('\r\n')[0] ?? r.status}`);
    }
    return { token: body.access_token, mode: 'service-principal-secret' };
  }
  throw new CliError(
    'Error: AZCM0044: no credentials: pass --access-token, or --service-principal-id with --service-principal-secret or --service-principal-cert (or a --config file)',
  );
}

async function arm(
  method: string,
  s: Pick<State, 'subscriptionId' | 'resourceGroup' | 'resourceName'>,
  tok: string | undefined,
  body?: unknown,
): Promise<Response> {
  const base = process.env.AZCMAGENT_STANDIN_ARM;
  if (!base) throw new CliError('Error: AZCMAGENT_STANDIN_ARM is not set (the fake ARM URL the stand-in registers machines with)');
  const url = `${base.replace(/\/$/, '')}/__fake/machines/${[s.subscriptionId, s.resourceGroup, s.resourceName].map(encodeURIComponent).join('/')}`;
  try {
    return await fetch(url, {
      method,
      headers: { 'content-type': 'application/json', ...(tok ? { authorization: `Bearer ${tok}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new CliError(`Error: AZCM0026: Network Error: ${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message} (${url})`);
  }
}

function parseTags(s: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of (s ?? '').split(',').filter(Boolean)) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new CliError(`Error: invalid tag "${kv}": expected key=value`);
    out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

async function connect(args: string[]): Promise<void> {
  const { flags: raw, onArgv } = parse(args, CONNECT);
  if (raw.help) return void console.log(help('connect'));
  const flags = withConfigFile(raw, CONNECT);
  required(flags, ['resource-group', 'tenant-id', 'location', 'subscription-id']);
  const cloud = (flags.cloud as string | undefined) ?? 'AzureCloud';
  if (!CLOUDS.includes(cloud)) throw new CliError(`Error: AZCM0045: invalid cloud "${cloud}": expected one of ${CLOUDS.join(', ')}`);
  if (readState()?.status === 'Connected') {
    throw new CliError('Error: AZCM0018: The machine is already connected to Azure Arc. Run azcmagent disconnect first.');
  }
  const tenantId = flags['tenant-id'] as string;
  const auth = await token(flags, tenantId);
  const state: State = {
    status: 'Connected',
    resourceName: (flags['resource-name'] as string | undefined) ?? hostname(),
    resourceGroup: flags['resource-group'] as string,
    subscriptionId: flags['subscription-id'] as string,
    tenantId,
    location: flags.location as string,
    cloud,
    vmId: randomUUID(),
    vmUuid: randomUUID().toUpperCase(),
    correlationId: (flags['correlation-id'] as string | undefined) ?? randomUUID(),
    tags: parseTags(flags.tags as string | undefined),
    connectedAt: new Date().toISOString(),
    authMode: auth.mode,
    secretsOnArgv: SECRET_FLAGS.filter((f) => onArgv.has(f)),
    argv: redact(args),
  };
  const r = await arm('PUT', state, auth.token, {
    location: state.location,
    tenantId,
    tags: state.tags,
    vmId: state.vmId,
    correlationId: state.correlationId,
    agentVersion: VERSION,
  });
  if (!r.ok) {
    const text = await r.text();
    const code =
      r.status === 401
        ? 'AZCM0041: The credentials supplied are invalid'
        : r.status === 403
          ? 'AZCM0042: Failed to create the Azure Arc-enabled server resource: authorization failed'
          : `AZCM0042: Failed to create the Azure Arc-enabled server resource (HTTP ${r.status})`;
    throw new CliError(`Error: ${code}: ${text}`);
  }
  const machine = (await r.json()) as { identity?: { principalId?: string } };
  state.principalId = machine.identity?.principalId;
  writeState(state);
  console.log(`INFO    Connected machine to Azure (azcmagent ${STANDIN})`);
  console.log(
    `INFO    Machine overview page: https://portal.azure.com/#@${tenantId}/resource/subscriptions/${state.subscriptionId}/resourceGroups/${state.resourceGroup}/providers/Microsoft.HybridCompute/machines/${state.resourceName}/overview`,
  );
}

async function disconnect(args: string[]): Promise<void> {
  const { flags: raw } = parse(args, DISCONNECT);
  if (raw.help) return void console.log(help('disconnect'));
  const flags = withConfigFile(raw, DISCONNECT);
  const s = readState();
  if (!s || s.status !== 'Connected') throw new CliError('Error: AZCM0010: The machine is not connected to Azure Arc');
  if (!flags['force-local-only']) {
    const auth = await token(flags, s.tenantId);
    const r = await arm('DELETE', s, auth.token);
    if (!r.ok && r.status !== 404)
      throw new CliError(`Error: AZCM0043: Failed to delete the Azure Arc-enabled server resource (HTTP ${r.status}): ${await r.text()}`);
  }
  rmSync(STATE, { force: true });
  console.log(`INFO    Disconnected machine from Azure (azcmagent ${STANDIN})`);
}

function show(args: string[]): void {
  const { flags } = parse(args, COMMON);
  if (flags.help) return void console.log(help('show'));
  const s = readState();
  const connected = s?.status === 'Connected';
  const id = connected
    ? `/subscriptions/${s.subscriptionId}/resourceGroups/${s.resourceGroup}/providers/Microsoft.HybridCompute/machines/${s.resourceName}`
    : '';
  const out = {
    resourceName: connected ? s.resourceName : '',
    resourceGroup: connected ? s.resourceGroup : '',
    resourceNamespace: 'Microsoft.HybridCompute',
    resourceId: id,
    subscriptionId: connected ? s.subscriptionId : '',
    tenantId: connected ? s.tenantId : '',
    vmId: connected ? s.vmId : '',
    vmUuid: connected ? s.vmUuid : '',
    correlationId: connected ? s.correlationId : '',
    location: connected ? s.location : '',
    cloud: connected ? s.cloud : '',
    privateLinkScope: '',
    agentVersion: VERSION,
    agentLogsFile: '/var/opt/azcmagent/log/himds.log',
    agentErrorCode: '',
    agentErrorDetails: '',
    agentErrorTimestamp: '',
    lastHeartbeat: connected ? new Date().toISOString() : '',
    status: connected ? 'Connected' : 'Disconnected',
    httpsProxy: readSettings()['proxy.url'] ?? '',
    proxyBypassList: readSettings()['proxy.bypass'] ?? '',
    cloudProvider: 'N/A',
    manufacturer: 'fake',
    model: 'stand-in',
    services: [
      { serviceName: 'himds', displayName: 'Azure Hybrid Instance Metadata Service', status: connected ? 'running' : 'stopped' },
      { serviceName: 'gcad', displayName: 'Guest Configuration Arc Service', status: connected ? 'running' : 'stopped' },
      { serviceName: 'extd', displayName: 'Guest Configuration Extension Service', status: connected ? 'running' : 'stopped' },
    ],
    standIn: true,
  };
  if (flags.json) return void console.log(JSON.stringify(out, null, 2));
  console.log(`Resource Name                           : ${out.resourceName}`);
  console.log(`Resource Group Name                     : ${out.resourceGroup}`);
  console.log(`Resource Id                             : ${out.resourceId}`);
  console.log(`Subscription ID                         : ${out.subscriptionId}`);
  console.log(`Tenant ID                               : ${out.tenantId}`);
  console.log(`VM ID                                   : ${out.vmId}`);
  console.log(`Azure Region                            : ${out.location}`);
  console.log(`Cloud                                   : ${out.cloud}`);
  console.log(`Agent Version                           : ${VERSION} (${STANDIN})`);
  console.log(`Agent Status                            : ${out.status}`);
}

function readSettings(): Record<string, string> {
  return existsSync(SETTINGS) ? (JSON.parse(readFileSync(SETTINGS, 'utf8')) as Record<string, string>) : {};
}

function writeSettings(settings: Record<string, string>): void {
  if (Object.keys(settings).length === 0) return void rmSync(SETTINGS, { force: true });
  mkdirSync(dirname(SETTINGS), { recursive: true });
  const tmp = `${SETTINGS}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(settings, null, 2) + '\n', { mode: 0o644 });
  renameSync(tmp, SETTINGS);
}

function config(args: string[]): void {
  const [verb, property, value, ...extra] = args.filter((a) => !a.startsWith('-'));
  const known = (p: string | undefined) => {
    if (!p) throw new CliError('Error: a configuration property is required (see azcmagent config info)');
    if (!PROPERTIES[p]) throw new CliError(`Error: "${p}" is not a valid configuration property (stand-in knows: ${Object.keys(PROPERTIES).join(', ')})`);
    return p;
  };
  const settings = readSettings();
  switch (verb) {
    case 'list':
      return void console.log(JSON.stringify(settings, null, 2));
    case 'get':
      return void console.log(settings[known(property)] ?? '');
    case 'set': {
      const p = known(property);
      if (value === undefined || extra.length > 0) throw new CliError(`Error: azcmagent config set ${p} takes exactly one value`);
      if (!PROPERTIES[p]!(value)) throw new CliError(`Error: "${value}" is not a valid value for ${p}`);
      writeSettings({ ...settings, [p]: value });
      return void console.log(`INFO    ${p} set (azcmagent ${STANDIN})`);
    }
    case 'clear': {
      const p = known(property);
      delete settings[p];
      writeSettings(settings);
      return void console.log(`INFO    ${p} cleared (azcmagent ${STANDIN})`);
    }
    default:
      throw new CliError(`Error: unknown command "${verb ?? ''}" for "azcmagent config" (clear, get, info, list, set)`);
  }
}

function redact(args: string[]): string[] {
  return args.map((a, i) =>
    SECRET_FLAGS.some((f) => args[i - 1] === `--${f}`) ? '***' : SECRET_FLAGS.some((f) => a.startsWith(`--${f}=`)) ? `${a.split('=')[0]}=***` : a,
  );
}

function help(cmd?: string): string {
  const head = `azcmagent ${STANDIN}.\n`;
  if (cmd === 'connect') {
    return (
      `${head}Usage:\n  azcmagent connect [authentication] --subscription-id ID --resource-group RG --location REGION --tenant-id TENANT [flags]\n\n` +
      'Authentication: --access-token, or --service-principal-id with --service-principal-secret or --service-principal-cert;\n' +
      'prefer --config FILE (JSON with flag names as keys) so no secret is on the command line.\n' +
      'Flags: --resource-name, --tags k=v,..., --cloud AzureCloud|AzureUSGovernment|AzureChinaCloud, --correlation-id, -j/--json, -v/--verbose'
    );
  }
  if (cmd === 'disconnect') return `${head}Usage:\n  azcmagent disconnect [authentication] [--force-local-only]`;
  if (cmd === 'show') return `${head}Usage:\n  azcmagent show [-j|--json]`;
  return `${head}Usage:\n  azcmagent [command]\n\nAvailable Commands:\n  config      Change configuration settings of the agent\n  connect     Connects the server to Azure Arc\n  disconnect  Disconnects the server from Azure Arc\n  show        Gets machine metadata and agent status\n  version     Displays the agent version`;
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'connect':
      return connect(rest);
    case 'disconnect':
      return disconnect(rest);
    case 'show':
      return show(rest);
    case 'config':
      return config(rest);
    case 'version':
      return void console.log(`azcmagent version ${VERSION} (${STANDIN})`);
    case undefined:
    case 'help':
    case '-h':
    case '--help':
      return void console.log(help());
    default:
      throw new CliError(`Error: unknown command "${cmd}" for "azcmagent"\nRun 'azcmagent --help' for usage.`);
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`${e instanceof CliError ? e.message : (e as Error).stack}\n`);
  process.exit(e instanceof CliError ? e.code : 1);
});
