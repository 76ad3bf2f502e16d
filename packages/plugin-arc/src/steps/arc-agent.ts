import { ConfigError, FlexnodeError, drifted, findRecord, replaceRecord, missing, ok, type Arch, type Artifact, type CheckResult, type FlexnodeConfig, type Host, type StepInstance } from '@flexnode/sdk';
import { AGENT_PATH, lastLine, locateAgent } from '../azcmagent.js';
import { arcPluginConfig, PLUGIN_NAME, type ArcPluginConfig } from '../plugin-config.js';
import { records } from '../records.js';

/** Journal record: the pinned agent binary with this sha256 ran (`azcmagent version`) when it was installed. */
const VERIFIED_RECORD = 'arc.agent-verified';

const PACKAGE_RECORD = 'arc.agent-package';
const SHA256 = /^[0-9a-f]{64}$/;

/** The pinned artifact of the `deb` or `binary` source. */
export function agentArtifact(config: FlexnodeConfig, arch: Arch): Artifact {
  const agent = arcPluginConfig(config).agent ?? {};
  const source = agent.source ?? 'apt';
  const field = (f: string) => `pluginConfig["${PLUGIN_NAME}"].agent.${f}`;
  const version = agent.version?.replace(/^v/, '');
  const sha = (typeof agent.sha256 === 'string' ? agent.sha256 : agent.sha256?.[arch])?.toLowerCase();
  if (!version || !sha || !SHA256.test(sha)) {
    const path = !version ? field('version') : field('sha256');
    throw new ConfigError(`the "${source}" source of azcmagent needs ${field('version')} and a pinned ${field('sha256')} (64 hex digits) for ${arch}`, [
      { path, message: 'required: flexnode never installs an unverified download' },
    ]);
  }
  const file = source === 'deb' ? `azcmagent_${version}_${arch}.deb` : `azcmagent-linux-${arch}`;
  return {
    name: `azcmagent ${version} (${arch}, ${source})`,
    url: agent.url ?? `https://packages.microsoft.com/ubuntu/22.04/prod/pool/main/a/azcmagent/azcmagent_${version}_${arch}.deb`,
    mirrorPath: `azcmagent/v${version}/${file}`,
    sha256: sha,
  };
}

function sourceOf(config: FlexnodeConfig): NonNullable<NonNullable<ArcPluginConfig['agent']>['source']> {
  return arcPluginConfig(config).agent?.source ?? 'apt';
}

/** The operations of `arc.agent` (declared in steps.ts). */
export function createArcAgent(host: Host, config: FlexnodeConfig): StepInstance {
  const check = async (): Promise<CheckResult> => {
    const source = sourceOf(config);
    const command = await locateAgent(host);
    if (!command) return missing(`azcmagent is not installed (neither ${AGENT_PATH} nor on PATH); source: ${source}`);
    if (source === 'binary' && host.changes.list().some((c) => c.kind === 'file' && c.path === AGENT_PATH)) {
      const want = agentArtifact(config, host.arch).sha256;
      const have = await host.files.sha256(AGENT_PATH);
      if (have !== want) return drifted(`${AGENT_PATH} has sha256 ${have}, not the pinned ${want}`);
      // The very same binary already ran when it was installed: no need to run it again on every check.
      if (findRecord<{ sha256: string }>(host, VERIFIED_RECORD)?.sha256 === have) return ok(`${AGENT_PATH} (pinned, sha256 ${have.slice(0, 12)}…)`);
    }
    const version = await host.exec.run(command, ['version'], { mutates: false, allowFailure: true, timeoutMs: 30_000 });
    if (version.exitCode !== 0) return drifted(`${command} does not run: ${lastLine(version.stderr || version.stdout)}`);
    return ok(lastLine(version.stdout));
  };
  return {
    check,
    install: async () => {
      if ((await check()).status === 'ok') return;
      const source = sourceOf(config);
      switch (source) {
        case 'none':
          throw new FlexnodeError('ARC_AGENT_MISSING', 'azcmagent is not installed and the agent source is "none"', {
            hint: `install the Azure Connected Machine agent (https://aka.ms/azcmagent), or set pluginConfig["${PLUGIN_NAME}"].agent.source`,
          });
        case 'apt':
          try {
            await host.apt.install(['azcmagent']);
          } catch (error) {
            throw new FlexnodeError('ARC_AGENT_INSTALL', `apt could not install azcmagent: ${(error as Error).message.split('\n')[0]}`, {
              hint: `add Microsoft's package repository (https://packages.microsoft.com, see https://aka.ms/azcmagent), or use pluginConfig["${PLUGIN_NAME}"].agent.source "deb" with a pinned version and sha256`,
              cause: error,
            });
          }
          return;
        case 'deb': {
          const artifact = agentArtifact(config, host.arch);
          const file = await host.downloads.fetch(artifact);
          if (!host.dryRun) await host.changes.record(PACKAGE_RECORD, { name: 'azcmagent', artifact: artifact.name });
          await host.exec.run('dpkg', ['-i', file], { timeoutMs: 10 * 60_000, describe: `install ${artifact.name}` });
          return;
        }
        case 'binary': {
          const artifact = agentArtifact(config, host.arch);
          const file = await host.downloads.fetch(artifact);
          if (host.dryRun) {
            host.log.info(`would install ${artifact.name} as ${AGENT_PATH}`);
            return;
          }
          await host.files.copyFrom(file, AGENT_PATH, { mode: 0o755 });
          const version = await host.exec.run(AGENT_PATH, ['version'], { mutates: false, allowFailure: true, timeoutMs: 30_000 });
          if (version.exitCode !== 0) return; // the check after install reports it
          await replaceRecord(host, VERIFIED_RECORD, { sha256: artifact.sha256 });
          return;
        }
      }
    },
    uninstall: async () => {
      // Only a package flexnode installed itself is removed (apt's are in the journal as `package`).
      if (records(host, PACKAGE_RECORD).length > 0) {
        await host.exec.run('dpkg', ['-r', 'azcmagent'], { timeoutMs: 10 * 60_000, describe: 'remove the azcmagent package flexnode installed' });
        await host.changes.forget(PACKAGE_RECORD);
      }
      await host.changes.forget(VERIFIED_RECORD);
      await host.changes.revert();
    },
  };
}
