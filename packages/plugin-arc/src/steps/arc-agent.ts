import {
  FlexnodeError,
  drifted,
  findRecord,
  missing,
  ok,
  replaceRecord,
  type CheckResult,
  type FlexnodeConfig,
  type Host,
  type StepInstance,
} from '@flexnode/sdk';
import { agentArtifact, agentPackageSource, AGENT_PACKAGE, type AgentRepository } from '../agent-source.js';
import { agentProxyDrift, applyAgentProxy, restoreAgentProxy } from '../agent-proxy.js';
import { aptInstall, configuredElsewhere, keyringPath, LIST_PATH, listEntry, removeIndexes, updateSource } from '../apt-repository.js';
import { AGENT_PATH, agentShow, lastLine, locateAgent } from '../azcmagent.js';
import { readOsRelease } from '../os-release.js';
import { existingPackageDirs, restorePackageDirs, type DirState } from '../package-dirs.js';
import { MACHINE_RECORD } from '../paths.js';
import { arcPluginConfig, PLUGIN_NAME } from '../plugin-config.js';
import { aptProxyOptions, proxySecrets } from '../proxy.js';
import { records } from '../records.js';
import { fetchSigningKey, isArmored } from '../signing-key.js';

/** Journal record: the pinned agent binary with this sha256 ran (`azcmagent version`) when it was installed. */
const VERIFIED_RECORD = 'arc.agent-verified';
/** Journal record (write-ahead): flexnode installs the agent package; uninstall purges it. */
const PACKAGE_RECORD = 'arc.agent-package';
/** Journal record: the repository entry flexnode wrote, its keyring, and apt's index files of it. */
const REPOSITORY_RECORD = 'arc.agent-repository';

interface PackageRecord {
  name: string;
  /** `apt` (from the repository) or `deb` (a pinned file); older journals have no `via` (deb). */
  via?: 'apt' | 'deb';
  /** The package's directories that existed before it: put back if dpkg removes them with it. */
  dirs?: DirState[];
  [key: string]: unknown;
}

interface RepositoryRecord {
  url: string;
  suite: string;
  fingerprint: string;
  list: string;
  keyring: string;
  keyringSha256: string;
  entry: string;
  indexes: string[];
  [key: string]: unknown;
}

const sourceOf = (config: FlexnodeConfig) => arcPluginConfig(config).agent?.source ?? 'apt';

/** The operations of `arc.agent` (declared in steps.ts). */
export function arcAgentOps({ host, config }: { host: Host; config: FlexnodeConfig }): StepInstance {
  const ownsAgentFile = () => host.changes.list().some((c) => c.kind === 'file' && c.path === AGENT_PATH);

  /** Why flexnode's repository entry or keyring no longer is what it wrote, if it is not. */
  const repositoryDrift = async (): Promise<string | undefined> => {
    const rec = findRecord<RepositoryRecord>(host, REPOSITORY_RECORD);
    if (!rec) return undefined;
    if ((await host.files.readText(rec.list)) !== rec.entry) return `${rec.list} is not the entry flexnode wrote`;
    if ((await host.files.sha256(rec.keyring)) !== rec.keyringSha256) return `${rec.keyring} is not the key flexnode verified`;
    return undefined;
  };

  const check = async (): Promise<CheckResult> => {
    const source = sourceOf(config);
    const command = await locateAgent(host);
    if (!command) return missing(`azcmagent is not installed (neither ${AGENT_PATH} nor on PATH); source: ${source}`);
    if (source === 'binary' && ownsAgentFile()) {
      const want = agentArtifact(config, host.arch).sha256;
      const have = await host.files.sha256(AGENT_PATH);
      if (have !== want) return drifted(`${AGENT_PATH} has sha256 ${have}, not the pinned ${want}`);
    }
    const repository = await repositoryDrift();
    if (repository) return drifted(repository);
    const proxy = await agentProxyDrift(host, command, config);
    if (proxy) return drifted(proxy);
    // The very same pinned binary already ran when it was installed: no need to run it again on every check.
    const verified = findRecord<{ sha256: string }>(host, VERIFIED_RECORD);
    if (verified && (await host.files.sha256(AGENT_PATH)) === verified.sha256) return ok(`${AGENT_PATH} (pinned, sha256 ${verified.sha256.slice(0, 12)}…)`);
    const version = await host.exec.run(command, ['version'], { mutates: false, allowFailure: true, timeoutMs: 30_000 });
    if (version.exitCode !== 0) return drifted(`${command} does not run: ${lastLine(version.stderr || version.stdout)}`);
    return ok(lastLine(version.stdout));
  };

  /**
   * Microsoft's repository for this release: the signing key checked against its fingerprint before it is written,
   * then a `signed-by` entry. Reused as it is when another apt source already names it. Returns the list file to
   * update from.
   */
  const ensureRepository = async (repo: AgentRepository, apt: string[], secrets: string[]): Promise<string | undefined> => {
    const elsewhere = await configuredElsewhere(host, repo);
    if (elsewhere) {
      host.log.info(`${repo.url} ${repo.suite} is already an apt source (${elsewhere}): flexnode uses it and adds no entry of its own`);
      return elsewhere;
    }
    if (host.dryRun) {
      await host.changes.record(`check that the signing key ${repo.keyUrl} has the fingerprint ${repo.fingerprint}`, {});
      await host.files.write(keyringPath(true), `(the signing key of ${repo.url})\n`, { mode: 0o644 });
      await host.files.write(LIST_PATH, listEntry(repo, keyringPath(true)), { mode: 0o644 });
      return LIST_PATH;
    }
    const key = await fetchSigningKey(host, repo, apt, secrets);
    const keyring = keyringPath(isArmored(key));
    const entry = listEntry(repo, keyring);
    await host.files.write(keyring, key, { mode: 0o644 });
    await host.files.write(LIST_PATH, entry, { mode: 0o644 });
    const previous = findRecord<RepositoryRecord>(host, REPOSITORY_RECORD);
    await replaceRecord(host, REPOSITORY_RECORD, {
      url: repo.url,
      suite: repo.suite,
      fingerprint: repo.fingerprint,
      list: LIST_PATH,
      keyring,
      entry,
      keyringSha256: (await host.files.sha256(keyring))!,
      indexes: previous?.indexes ?? [],
    } satisfies RepositoryRecord);
    return LIST_PATH;
  };

  /** Repository, `apt-get update` of it alone, then the package; a failure before the package leaves nothing behind. */
  const installFromApt = async (repo: AgentRepository, pkg: string, agentPresent: boolean) => {
    const apt = aptProxyOptions(config.proxy, [repo.url, repo.keyUrl]);
    const secrets = proxySecrets(config.proxy);
    try {
      const listFile = await ensureRepository(repo, apt, secrets);
      if (!listFile) return;
      const indexes = await updateSource(host, repo, listFile, apt, secrets);
      const rec = findRecord<RepositoryRecord>(host, REPOSITORY_RECORD);
      if (rec && listFile === LIST_PATH) await replaceRecord(host, REPOSITORY_RECORD, { ...rec, indexes: [...new Set([...rec.indexes, ...indexes])].sort() });
      if (agentPresent) return; // the repository was repaired; the agent is there
      await aptInstall(host, pkg, apt, secrets, async (deb) => {
        if (host.dryRun) return;
        const dirs = deb ? await existingPackageDirs(host, deb) : [];
        await host.changes.record(PACKAGE_RECORD, { name: AGENT_PACKAGE, via: 'apt', package: pkg, dirs } satisfies PackageRecord);
      });
    } catch (error) {
      if (!host.dryRun && !agentPresent && !(await host.apt.isInstalled(AGENT_PACKAGE))) await rollBack();
      if (error instanceof FlexnodeError) throw error;
      throw new FlexnodeError('ARC_AGENT_INSTALL', `apt could not install ${pkg} from ${repo.url} ${repo.suite}: ${(error as Error).message.split('\n')[0]}`, {
        hint: `check pluginConfig["${PLUGIN_NAME}"].agent.version against \`apt-cache policy ${AGENT_PACKAGE}\`, the network and the proxy; or use the "deb" source with a pinned version and sha256`,
        cause: error,
      });
    }
  };

  /** Undo a first install that failed before the package arrived: the entry, the key, gpg if it was installed. */
  const rollBack = async () => {
    const rec = findRecord<RepositoryRecord>(host, REPOSITORY_RECORD);
    if (rec) await removeIndexes(host, rec.indexes);
    await host.changes.forget(PACKAGE_RECORD);
    await host.changes.forget(REPOSITORY_RECORD);
    await host.changes.revert();
  };

  const installAgent = async (agentPresent: boolean) => {
    const source = agentPackageSource(config, await readOsRelease(host), host.arch);
    switch (source.kind) {
      case 'none':
        if (agentPresent) return;
        throw new FlexnodeError('ARC_AGENT_MISSING', 'azcmagent is not installed and the agent source is "none"', {
          hint: `install the Azure Connected Machine agent (https://aka.ms/azcmagent), or set pluginConfig["${PLUGIN_NAME}"].agent.source`,
        });
      case 'apt':
        // Also when the agent is there but flexnode's repository entry drifted: it is written again.
        if (agentPresent && !(await repositoryDrift())) return;
        return installFromApt(source.repository, source.package, agentPresent);
      case 'deb': {
        if (agentPresent) return;
        const file = await host.downloads.fetch(source.artifact);
        if (!host.dryRun) {
          const dirs = await existingPackageDirs(host, file);
          await host.changes.record(PACKAGE_RECORD, { name: AGENT_PACKAGE, via: 'deb', artifact: source.artifact.name, dirs } satisfies PackageRecord);
        }
        await host.exec.run('dpkg', ['-i', file], { timeoutMs: 10 * 60_000, describe: `install ${source.artifact.name}` });
        return;
      }
      case 'binary': {
        const artifact = source.artifact;
        // An agent flexnode did not put there is left alone; its own pinned binary is replaced when it drifted.
        if (agentPresent && !ownsAgentFile()) return;
        if (agentPresent && (await host.files.sha256(AGENT_PATH)) === artifact.sha256) return;
        const file = await host.downloads.fetch(artifact);
        if (host.dryRun) {
          host.log.info(`would install ${artifact.name} as ${AGENT_PATH}`);
          return;
        }
        await host.files.copyFrom(file, AGENT_PATH, { mode: 0o755 });
        const version = await host.exec.run(AGENT_PATH, ['version'], { mutates: false, allowFailure: true, timeoutMs: 30_000 });
        if (version.exitCode === 0) await replaceRecord(host, VERIFIED_RECORD, { sha256: artifact.sha256 });
        return;
      }
    }
  };

  return {
    check,
    install: async () => {
      if ((await check()).status === 'ok') return;
      const present = (await locateAgent(host)) !== undefined;
      await installAgent(present);
      const command = await locateAgent(host);
      if (command) await applyAgentProxy(host, command, config);
    },
    uninstall: async () => {
      const command = await locateAgent(host);
      const packages = records<PackageRecord>(host, PACKAGE_RECORD);
      if ((packages.length > 0 || ownsAgentFile()) && command) await refuseWhileConnected(host, command);
      await restoreAgentProxy(host, command);
      // Only a package flexnode installed itself is removed, with the configuration it brought (purge).
      if (packages.length > 0) {
        if (await host.apt.isInstalled(AGENT_PACKAGE)) {
          const viaApt = packages.some((p) => p.via === 'apt');
          const tool = viaApt ? 'apt-get' : 'dpkg';
          await host.exec.run(tool, viaApt ? ['purge', '-y', AGENT_PACKAGE] : ['--purge', AGENT_PACKAGE], {
            env: { DEBIAN_FRONTEND: 'noninteractive' },
            timeoutMs: 10 * 60_000,
            describe: 'remove the azcmagent package flexnode installed',
          });
        }
        await restorePackageDirs(
          host,
          packages.flatMap((p) => p.dirs ?? []),
        );
        await host.changes.forget(PACKAGE_RECORD);
      }
      const repository = findRecord<RepositoryRecord>(host, REPOSITORY_RECORD);
      if (repository) {
        await removeIndexes(host, repository.indexes);
        await host.changes.forget(REPOSITORY_RECORD);
      }
      await host.changes.forget(VERIFIED_RECORD);
      await host.changes.revert();
    },
  };
}

/**
 * The agent is not removed while it still holds the machine's Arc registration that arc.connect recorded (its
 * uninstall failed, e.g. without the operator credential): the resource in Azure could then only be deleted by hand.
 */
async function refuseWhileConnected(host: Host, command: string): Promise<void> {
  if (!(await host.files.stat(MACHINE_RECORD))) return;
  const status = await agentShow(host, command).catch(() => undefined);
  if (!/^connected$/i.test(status?.status ?? '')) return;
  throw new FlexnodeError(
    'ARC_AGENT_STILL_CONNECTED',
    `azcmagent is still connected to Azure Arc as ${status!.resourceName ?? 'this machine'}: the agent flexnode installed is kept until the machine is disconnected`,
    {
      hint: 'run `flexnode unbootstrap` again once arc.connect can be undone (it names what it needs, e.g. the operator credential)',
    },
  );
}
