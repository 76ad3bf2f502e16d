// The suite's shared servers, in this process (every CLI run is an async child process, so they keep answering):
// the artifact mirror (Debian-built upstream-layout artifacts plus the azcmagent stand-in), the fake ARM and
// the fake Entra. Tokens the fake Entra issues join the secrets every output and file is scanned for.
import { debianArch, buildArtifacts, type ArtifactManifest } from '../mirror/build-artifacts.js';
import { startMirror, type MirrorServer } from '../mirror/mirror-server.js';
import { armCallers } from '../fakes/arm-callers.js';
import { FakeArm } from '../fakes/fake-arm.js';
import { FakeEntra } from '../fakes/fake-entra.js';
import { standinPath } from '../fakes/standins/install.js';
import { addSecretSource, CLIENT_ID, CLIENT_SECRET, TENANT, type SandboxConfigOptions } from './lib.js';

export const AGENT_VERSION = '1.50.02997.1';

export interface Infra {
  manifest: ArtifactManifest;
  mirror: MirrorServer;
  pins: SandboxConfigOptions['pins'];
  /** As the Host names them: `runc 1.1.12 (amd64)`. */
  artifactNames: string[];
  arm: FakeArm;
  entra: FakeEntra;
  /** The azcmagent stand-in's sha256 (served by the mirror). */
  agentSha256: string;
  /** ARM authorization: return false to answer 403 AuthorizationFailed (swap per case). */
  authorize: { deny?: (action: string, scope: string) => boolean };
  stop(): Promise<void>;
}

export async function startInfra(): Promise<Infra> {
  const manifest = await buildArtifacts();
  const agent = await manifest.addFile(`azcmagent/v${AGENT_VERSION}/azcmagent-linux-${debianArch()}`, standinPath('azcmagent'));
  const mirror = await startMirror(manifest);
  const pin = (name: string) => ({ version: manifest.get(name).version, sha256: manifest.get(name).sha256 });
  const pins = { containerd: pin('containerd'), runc: pin('runc'), 'cni-plugins': pin('cni-plugins') };
  const arch = debianArch();
  const artifactNames = [
    `runc ${pins.runc.version} (${arch})`,
    `containerd ${pins.containerd.version} (${arch})`,
    `cni-plugins ${pins['cni-plugins'].version} (${arch})`,
  ];

  const entra = await FakeEntra.start({ clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }], tenantId: TENANT });
  const authorize: Infra['authorize'] = {};
  const arm = await FakeArm.start({
    tenantId: TENANT,
    acceptToken: armCallers(
      entra,
      () => [],
      () => undefined,
    ),
    authorize: ({ action, scope }) => !authorize.deny?.(action, scope),
  });
  addSecretSource(() => entra.issued.map((t) => t.token));
  return {
    manifest,
    mirror,
    pins,
    artifactNames,
    arm,
    entra,
    agentSha256: agent.sha256,
    authorize,
    stop: async () => {
      await mirror.close();
      await arm.stop();
      await entra.stop();
    },
  };
}
