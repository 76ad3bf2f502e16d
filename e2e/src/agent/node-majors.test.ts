// flexnode on every supported Node major, not only the one running the tests (engines >= 20.19; 22 and 24 too;
// the release embeds 22). Each major is the official binary from the npm registry (node-linux-<arch>), fetched
// once into .cache/bench-node by the bench's own helper. What differs between majors is what breaks: the fast
// path and oclif's start, the agent's start under its unit's NODE_OPTIONS (--jitless: Node 22 exposes undici's
// globals as lazy data properties, and a descriptor read of one ended the agent), and a status run to its answer.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../mirror/paths.js';
import { GUARDED_ANSWER, runJitlessProbe } from './jitless-probe.js';

const MAJORS = [22, 24];
const cli = join(repoRoot(), 'packages/cli/bin/run.js');
const guard = join(repoRoot(), 'packages/core/dist/agent/jitless.js');

/** The unit's NODE_OPTIONS, read from the unit the CLI installs. */
function unitNodeOptions(): string {
  const unit = readFileSync(join(repoRoot(), 'packages/cli/assets/flexnode-agent.service'), 'utf8');
  const m = /^Environment="NODE_OPTIONS=([^"]*)"$/m.exec(unit);
  expect(m, 'the unit sets NODE_OPTIONS').to.not.equal(null);
  return m![1]!;
}

for (const major of MAJORS) {
  describe(`flexnode on Node ${major} (the registry's official binary)`, function () {
    this.timeout(180_000);
    let node: string;
    let root: string;
    const env = () => {
      const e: NodeJS.ProcessEnv = { ...process.env, HOME: root, FLEXNODE_CACHE_DIR: join(root, 'cache') };
      delete e.NODE_OPTIONS;
      return e;
    };
    const flexnode = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
      spawnSync(node, [cli, ...args], { encoding: 'utf8', env: { ...env(), ...extra }, timeout: 120_000 });

    before(async function () {
      this.timeout(300_000);
      const { nodeMajor } = (await import(join(repoRoot(), 'bench/lib/other-node.mjs'))) as { nodeMajor(m: number): string | undefined };
      const binary = nodeMajor(major);
      expect(binary, `node-linux-${process.arch}@${major} from the npm registry`).to.be.a('string');
      node = binary!;
      expect(spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout).to.match(new RegExp(`^v${major}\\.`));
      root = await mkdtemp(join(tmpdir(), `flexnode-node${major}-`));
    });
    after(async () => {
      if (root) await rm(root, { recursive: true, force: true });
    });

    it('--version and steps answer on the fast path and through oclif alike', () => {
      const version = flexnode(['--version']);
      expect(version.status, version.stderr).to.equal(0);
      expect(version.stdout).to.match(new RegExp(`^@flexnode/cli/\\S+ linux-\\S+ node-v${major}\\.`));
      const fast = flexnode(['steps', '--json']);
      const oclif = flexnode(['steps', '--json'], { FLEXNODE_NO_FAST_PATH: '1' });
      expect(fast.status, fast.stderr).to.equal(0);
      expect(oclif.status, oclif.stderr).to.equal(0);
      expect(JSON.parse(fast.stdout)).to.deep.equal(JSON.parse(oclif.stdout));
    });

    it('status of a sandbox root runs every check to its answer (unhealthy: nothing is installed)', () => {
      // The preflight's endpoint probes go to a closed loopback proxy: tests never reach for Azure or dl.k8s.io (not
      // even their names, through this machine's resolver).
      const offline = { HTTPS_PROXY: 'http://127.0.0.1:9', HTTP_PROXY: 'http://127.0.0.1:9', NO_PROXY: '' };
      const r = flexnode(['status', '--config', join(repoRoot(), 'examples/config.json'), '--root', join(root, 'sandbox'), '--json'], offline);
      expect(r.status, r.stderr).to.equal(1);
      const report = JSON.parse(r.stdout) as { healthy: boolean; results: { id: string; outcome: string }[] };
      expect(report.healthy).to.equal(false);
      const outcomes = new Map(report.results.map((s) => [s.id, s.outcome]));
      for (const id of ['containerd.service', 'kube.kubelet', 'arc.connect']) expect(outcomes.get(id), id).to.equal('unhealthy');
    });

    it("the agent starts under its unit's NODE_OPTIONS: undici's globals absent, a bad config an error, not a crash", () => {
      const options = unitNodeOptions();
      const guarded = runJitlessProbe(node, guard, { env: { ...env(), NODE_OPTIONS: options } });
      expect(guarded.status, guarded.stderr).to.equal(0);
      expect(guarded.lines).to.deep.equal(GUARDED_ANSWER);

      const agent = flexnode(['agent', '--config', join(root, 'absent.json'), '--root', join(root, 'sandbox'), '--max-cycles', '1'], { NODE_OPTIONS: options });
      expect(agent.stderr).to.not.match(/WebAssembly/);
      expect(agent.stderr).to.match(/config file .*absent\.json does not exist/);
      expect(agent.status).to.equal(2);
    });
  });
}
