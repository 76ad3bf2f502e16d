#!/usr/bin/env node
// Scaling: how `flexnode status` (every check, converged) grows with the number of steps, using a generated
// plugin of 10, 100 and 1,000 steps linked into a private plugin data dir. Each step's check reads one file;
// the steps form chains of ten, so the graph has edges. Reports time per step: near constant = near linear.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmtMs, interleaved, record, report, timeCommand } from './lib/measure.mjs';
import { cli } from './lib/sandbox.mjs';

const runs = Number(process.env.BENCH_RUNS ?? 5);
const sizes = [10, 100, 1000];
const node = process.execPath;
const work = mkdtempSync(join(tmpdir(), 'flexnode-scaling-'));

/** A plugin package with `n` steps, written without the SDK (core accepts plain step objects). */
function generatePlugin(n) {
  const root = join(work, `plugin-${n}`);
  mkdirSync(root, { recursive: true });
  const name = `@bench/synthetic-${n}`;
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name, version: '1.0.0', type: 'module', flexnode: { plugin: './plugin.js' }, oclif: {} }));
  writeFileSync(
    join(root, 'plugin.js'),
    `const HOST = Symbol.for('flexnode.host');
const step = (i) => ({
  id: 'synthetic.s' + i,
  title: 'synthetic step ' + i,
  after: i % 10 === 0 ? [] : ['synthetic.s' + (i - 1)],
  inject: [HOST],
  create: (host) => ({
    check: async () => ((await host.files.readText('/etc/synthetic/' + (i % 10))) === 'ok' ? { status: 'ok' } : { status: 'missing', reason: 'absent' }),
    install: async () => {},
    uninstall: async () => {},
  }),
});
export default { name: ${JSON.stringify(name)}, apiVersion: 1, steps: Array.from({ length: ${n} }, (_, i) => step(i)) };
`,
  );
  const dataDir = join(work, `data-${n}`);
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(join(dataDir, 'package.json'), JSON.stringify({ private: true, oclif: { schema: 1, plugins: [{ name, type: 'link', root }] } }));
  return { name, dataDir };
}

try {
  const root = join(work, 'root');
  mkdirSync(join(root, 'etc/synthetic'), { recursive: true });
  for (let i = 0; i < 10; i++) writeFileSync(join(root, 'etc/synthetic', String(i)), 'ok');
  const config = join(work, 'config.json');
  writeFileSync(
    config,
    JSON.stringify({
      azure: {
        subscriptionId: '11111111-2222-3333-4444-555555555555',
        tenantId: '66666666-7777-8888-9999-000000000000',
        targetCluster: {
          resourceId: '/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks',
        },
      },
      // Preflight steps always run first; their network probes would only add noise here.
      pluginConfig: { '@flexnode/plugin-kube': { skipPreflight: ['azure-endpoint', 'artifact-endpoint', 'clock'] } },
    }),
  );
  const cases = sizes.map((n) => {
    const { name, dataDir } = generatePlugin(n);
    const argv = [node, cli, 'status', '--config', config, '--root', root, '--only', name, '--json'];
    return { name: String(n), run: () => timeCommand(argv, { env: { ...process.env, FLEXNODE_DATA_DIR: dataDir } }) };
  });
  const r = interleaved(cases, runs);
  const base = r['10'];
  const rows = sizes.map((n) => ({ name: `status, ${n} synthetic steps`, stats: r[String(n)], baseline: base }));
  report(`Scaling of a converged status with the number of steps (${runs} runs each; ratio vs 10 steps)`, rows, 'Scaling');
  const perStep = (n) => (r[String(n)].median - base.median) / (n - 10);
  const marginal100 = perStep(100);
  const marginal1000 = perStep(1000);
  console.log(`marginal cost per step: ${marginal100.toFixed(3)} ms (10→100), ${marginal1000.toFixed(3)} ms (10→1000)`);
  // Near linear: the marginal cost per step does not grow by more than 2x from 100 to 1,000 steps.
  const linear = marginal1000 <= Math.max(2 * marginal100, 0.5);
  console.log(`near-linear (marginal cost per step at 1,000 <= 2x that at 100): ${linear ? 'met' : 'NOT met'}`);
  record({
    bench: 'Scaling',
    figure: 'status with 10 / 100 / 1,000 generated steps',
    value: sizes.map((n) => fmtMs(r[String(n)].median)).join(' / '),
    baseline: `10 steps ${fmtMs(base.median)}`,
    ratio: `${(r['100'].median / base.median).toFixed(2)}x / ${(r['1000'].median / base.median).toFixed(2)}x`,
    target: 'near linear',
    met: linear,
    note: `marginal ${marginal100.toFixed(3)} / ${marginal1000.toFixed(3)} ms per step`,
  });
  process.exitCode = linear ? 0 : 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
