import { chmod, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlexnodeError, underRoot, type Host } from '@flexnode/sdk';
import type { AgentRepository } from './agent-source.js';
import { lastLine } from './azcmagent.js';

/** flexnode's list entry for the agent's repository, and the keyring it is `signed-by` (apt's /etc/apt/keyrings). */
export const LIST_PATH = '/etc/apt/sources.list.d/flexnode-azcmagent.list';
const KEYRING_BASE = '/etc/apt/keyrings/flexnode-azcmagent';
/** Where apt keeps the index files it downloads (apt.conf(5): Dir::State::lists). */
export const LISTS_DIR = '/var/lib/apt/lists';
const APT_ENV = { DEBIAN_FRONTEND: 'noninteractive' };
/** apt's warnings that mean the source was not read (a merely cosmetic warning does not count). */
const UPDATE_FAILED =
  /Failed to fetch|failed to download|GPG error|NO_PUBKEY|not signed|signatures? (were|was) invalid|EXPKEYSIG|BADSIG|no longer has a Release file|does not have a Release file/i;

/** apt reads a keyring as ASCII armor only with the `.asc` extension (sources.list(5), Signed-By). */
export function keyringPath(armored: boolean): string {
  return `${KEYRING_BASE}.${armored ? 'asc' : 'gpg'}`;
}

/** The one-line entry (sources.list(5)): only this machine's architecture, trusted only with that keyring. */
export function listEntry(repo: AgentRepository, keyring: string): string {
  return [
    "# Microsoft's repository of the Azure Connected Machine agent, added by flexnode (plugin-arc): `flexnode unbootstrap` removes it.",
    `deb [arch=${repo.arch} signed-by=${keyring}] ${repo.url} ${repo.suite} ${repo.component}`,
    '',
  ].join('\n');
}

/**
 * The file-name prefix of apt's index files for `url`/`suite` under Dir::State::lists: apt's URItoFileName
 * (apt-pkg/contrib/strutl.cc) drops the scheme and credentials, %-quotes `\|{}[]<>"^~_=!@#$%&*`, control and
 * non-ASCII bytes, and turns `/` into `_`.
 */
export function aptListPrefix(url: string, suite: string): string {
  const u = new URL(`${url.replace(/\/+$/, '')}/dists/${suite}/`);
  const bare = `${u.host}${u.pathname}`;
  let quoted = '';
  for (const byte of Buffer.from(bare, 'utf8')) {
    const c = String.fromCharCode(byte);
    quoted += byte <= 0x20 || byte >= 0x7f || '\\|{}[]<>"^~_=!@#$%&*'.includes(c) ? `%${byte.toString(16).padStart(2, '0')}` : c;
  }
  return quoted.replace(/\//g, '_');
}

const normalizeUri = (uri: string) => uri.replace(/\/+$/, '').toLowerCase();

/** `[uri, suite]` pairs of the `deb` entries of a one-line (.list) or deb822 (.sources) file. */
export function sourceEntries(text: string, deb822: boolean): [string, string][] {
  const out: [string, string][] = [];
  if (!deb822) {
    for (const raw of text.split('\n')) {
      const words = raw
        .replace(/#.*/, '')
        .replace(/\[[^\]]*\]/, ' ')
        .trim()
        .split(/\s+/);
      if (words[0] === 'deb' && words[1] && words[2]) out.push([words[1], words[2]]);
    }
    return out;
  }
  for (const stanza of text.replace(/^#.*$/gm, '').split(/\n\s*\n/)) {
    const field = (name: string) => new RegExp(`^${name}:[ \\t]*(.*)$`, 'mi').exec(stanza)?.[1]?.trim().split(/\s+/) ?? [];
    if (field('Enabled')[0] === 'no' || !field('Types').includes('deb')) continue;
    for (const uri of field('URIs')) for (const suite of field('Suites')) out.push([uri, suite]);
  }
  return out;
}

/**
 * Another apt source that already names this repository and suite (Microsoft's packages-microsoft-prod, an
 * operator's own entry): its file, or undefined. flexnode then adds no entry of its own: two entries of one
 * repository with different Signed-By make apt refuse every update.
 */
export async function configuredElsewhere(host: Host, repo: AgentRepository): Promise<string | undefined> {
  const files = ['/etc/apt/sources.list', ...(await host.files.list('/etc/apt/sources.list.d')).sort().map((f) => `/etc/apt/sources.list.d/${f}`)];
  for (const file of files) {
    if (file === LIST_PATH || !/(\.list|\.sources|\/sources\.list)$/.test(file)) continue;
    const text = await host.files.readText(file);
    if (!text) continue;
    if (sourceEntries(text, file.endsWith('.sources')).some(([uri, suite]) => normalizeUri(uri) === normalizeUri(repo.url) && suite === repo.suite))
      return file;
  }
  return undefined;
}

/**
 * `apt-get update` of this one source list (not the machine's others: no other index is touched, and a machine
 * whose other sources are unreachable still gets the agent). Returns the index files apt now holds for the
 * repository, so uninstall can remove them with the entry.
 */
export async function updateSource(host: Host, repo: AgentRepository, listFile: string, aptOptions: readonly string[], secrets: string[]): Promise<string[]> {
  const args = [
    ...aptOptions,
    '-o',
    `Dir::Etc::sourcelist=${underRoot(host.root, listFile)}`,
    '-o',
    'Dir::Etc::sourceparts=-',
    '-o',
    'APT::Get::List-Cleanup=0',
    'update',
  ];
  const result = await host.exec.run('apt-get', args, {
    env: APT_ENV,
    allowFailure: true,
    timeoutMs: 10 * 60_000,
    secrets,
    describe: `read the index of ${repo.url} ${repo.suite}`,
  });
  // apt-get update may exit 0 with only a warning for a source it could not fetch or verify.
  const problem = result.stderr
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l.startsWith('E: ') || (l.startsWith('W: ') && UPDATE_FAILED.test(l)));
  if (result.exitCode !== 0 || problem) {
    throw new FlexnodeError(
      'ARC_REPO_UPDATE',
      `apt could not read the agent's repository ${repo.url} ${repo.suite}: ${(problem ?? lastLine(result.stderr || result.stdout)).trim()}`,
      {
        hint: 'check that the repository serves this suite and is signed by the configured key, and the network and proxy (proxy.https, proxy.noProxy)',
      },
    );
  }
  if (host.dryRun) return [];
  const prefix = aptListPrefix(repo.url, repo.suite);
  return (await host.files.list(LISTS_DIR))
    .filter((f) => f.startsWith(prefix))
    .sort()
    .map((f) => `${LISTS_DIR}/${f}`);
}

/**
 * `apt-get install` of the agent package from its repository, through the config's proxy. The package is first
 * downloaded into a private cache directory, so `beforeInstall` can read the very .deb apt then installs (its path,
 * undefined in a dry run); apt's own cache is left untouched.
 */
export async function aptInstall(
  host: Host,
  pkg: string,
  aptOptions: readonly string[],
  secrets: string[],
  beforeInstall: (deb: string | undefined) => Promise<void>,
): Promise<void> {
  const cache = await mkdtemp(join(tmpdir(), 'flexnode-arc-apt-'));
  try {
    // apt downloads as its sandbox user _apt, which must reach the directory.
    await chmod(cache, 0o755);
    await mkdir(join(cache, 'partial'));
    const options = [...aptOptions, '-o', `Dir::Cache::archives=${cache}/`, 'install', '-y', '--no-install-recommends'];
    const run = { env: APT_ENV, timeoutMs: 15 * 60_000, secrets };
    await host.exec.run('apt-get', [...options, '--download-only', pkg], { ...run, describe: `download ${pkg} from its repository` });
    const name = `${pkg.split('=')[0]}_`;
    const deb = host.dryRun ? undefined : (await readdir(cache)).find((f) => f.startsWith(name) && f.endsWith('.deb'));
    await beforeInstall(deb ? join(cache, deb) : undefined);
    await host.exec.run('apt-get', [...options, pkg], { ...run, describe: `install ${pkg} from its repository` });
  } finally {
    await rm(cache, { recursive: true, force: true });
  }
}

/** Remove apt's index files of the repository whose entry flexnode removes (apt would drop them at its next update). */
export async function removeIndexes(host: Host, files: readonly string[]): Promise<void> {
  const ours = files.filter((f) => f.startsWith(`${LISTS_DIR}/`) && !f.slice(LISTS_DIR.length + 1).includes('/'));
  if (ours.length === 0) return;
  await host.exec.run('rm', ['-f', '--', ...ours.map((f) => underRoot(host.root, f))], { describe: 'remove the index files of the removed repository entry' });
}
