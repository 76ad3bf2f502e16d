// Version skew through the real CLI: `flexnode bootstrap` with a kubelet newer than the FAKE Kubernetes API server,
// and one four minors older, against the FAKE ARM and FAKE Entra (the operator's service principal): exit 2 naming
// both versions and the rule, before any download (the test mirror sees no request) and with nothing changed
// under the --root sandbox but flexnode's own state, lock directory and log.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { CLIENT_ID, CLIENT_SECRET, CLUSTER, CLUSTER_ID, CLUSTER_RG, Fakes, SUB, TENANT } from '../arc/rig.js';
import { FakeKubeApi } from '../fakes/fake-kube-api.js';
import { ArtifactManifest } from '../mirror/build-artifacts.js';
import { startMirror, type MirrorServer } from '../mirror/mirror-server.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = join(REPO, 'packages/cli/bin/run.js');
const API_SERVER = '1.35.2';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Every path under `dir`, relative. */
function files(dir: string, rel = ''): string[] {
  if (!existsSync(join(dir, rel))) return [];
  return readdirSync(join(dir, rel), { withFileTypes: true }).flatMap((e) => [`${rel}/${e.name}`, ...(e.isDirectory() ? files(dir, `${rel}/${e.name}`) : [])]);
}

describe('version skew through the CLI (fake ARM, fake Entra, fake Kubernetes API at v1.35.2)', function () {
  this.timeout(120_000);
  let fakes: Fakes;
  let kube: FakeKubeApi;
  let mirror: MirrorServer;
  let tmp = '';

  before(async function () {
    if (!existsSync(join(REPO, 'packages/cli/dist/commands'))) {
      console.log('      SKIP: packages/cli is not built');
      return this.skip();
    }
    fakes = await Fakes.start();
    kube = await FakeKubeApi.start({ version: `v${API_SERVER}` });
    fakes.arm.addCluster({
      subscriptionId: SUB,
      resourceGroup: CLUSTER_RG,
      name: CLUSTER,
      serverUrl: kube.url,
      caData: kube.caData,
      kubernetesVersion: API_SERVER,
      networkProfile: { serviceCidr: '10.0.0.0/16', dnsServiceIP: '10.0.0.10' },
    });
    mirror = await startMirror(new ArtifactManifest());
    tmp = mkdtempSync(join(tmpdir(), 'flexnode-skew-cli-'));
  });

  after(async () => {
    await Promise.all([fakes?.stop(), kube?.stop(), mirror?.close()].map((p) => p?.catch(() => undefined)));
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const bootstrap = (version: string, json: boolean) =>
    new Promise<Run & { root: string }>((resolve) => {
      const root = join(tmp, `root-${version}`);
      mkdirSync(join(root, 'etc'), { recursive: true });
      const config = join(tmp, `config-${version}.json`);
      writeFileSync(
        config,
        JSON.stringify({
          azure: {
            subscriptionId: SUB,
            tenantId: TENANT,
            servicePrincipal: { clientId: CLIENT_ID },
            arc: { machineName: 'edge-skew', resourceGroup: 'rg-arc', location: 'westeurope' },
            targetCluster: { resourceId: CLUSTER_ID, location: 'westeurope' },
            endpoints: { resourceManager: fakes.arm.url, authorityHost: fakes.entra.url },
          },
          kubernetes: { version },
          artifacts: { mirror: mirror.url },
          node: { name: 'edge-skew' },
          // The machine checks are not what this is about (port 10250, memory, ... of the test machine).
          pluginConfig: { '@flexnode/plugin-kube': { skipPreflight: ['all'] } },
        }),
        { mode: 0o600 },
      );
      execFile(
        process.execPath,
        [CLI, 'bootstrap', '--config', config, '--root', root, ...(json ? ['--json'] : [])],
        {
          cwd: REPO,
          env: { ...process.env, NODE_EXTRA_CA_CERTS: fakes.arm.certPath, AZURE_CLIENT_SECRET: CLIENT_SECRET },
        },
        (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr, root }),
      );
    });

  for (const [version, why, json] of [
    ['1.36.0', /kubelet 1\.36\.0 \(kubernetes\.version\) is newer than the API server's 1\.35\.2 \(GET https:\/\/127\.0\.0\.1:\d+\/version\)/, true],
    [
      '1.31.14',
      /kubelet 1\.31\.14 \(kubernetes\.version\) is 4 minor versions older than the API server's 1\.35\.2 \(GET https:\/\/127\.0\.0\.1:\d+\/version\)/,
      false,
    ],
  ] as const) {
    it(`kubelet ${version}: exit 2 naming both versions and the rule, before any download, nothing changed`, async () => {
      mirror.resetRequests();
      const run = await bootstrap(version, json);
      expect(run.code, `${run.stdout}\n${run.stderr}`).to.equal(2);
      const out = `${run.stdout}\n${run.stderr}`;
      expect(out).to.match(why);
      expect(out).to.include("Kubernetes' version skew policy: a kubelet is never newer than the API server, and at most 3 minor versions older");
      if (json) {
        const report = JSON.parse(run.stdout) as { results: { id: string; outcome: string; error?: { code: string } }[] };
        expect(report.results.filter((r) => r.outcome === 'failed').map((r) => [r.id, r.error?.code])).to.deep.equal([['kube.version', 'CONFIG_INVALID']]);
        expect(report.results.filter((r) => !['failed', 'skipped', 'unchanged'].includes(r.outcome))).to.deep.equal([]);
      }
      // Before any download, and nothing on the machine but flexnode's own state and log.
      expect(mirror.log).to.deep.equal([]);
      expect(
        files(run.root).filter((p) => !/^\/(etc|run|var|var\/lib|var\/log)$/.test(p) && !p.startsWith('/var/lib/flexnode') && !p.startsWith('/var/log/')),
      ).to.deep.equal([]);
      expect(kube.requestsTo('/version').length).to.be.greaterThan(0);
      expect(out).to.not.contain(CLIENT_SECRET);
    });
  }
});
