#!/usr/bin/env node
// Converged re-run: `flexnode bootstrap` on a sandbox node that is already bootstrapped (every check ok),
// against `flexnode --version` and `node -e 0` in the same run. Targets: <= 1 s and <= 5x --version.
import { interleaved, report, timeCommand } from './lib/measure.mjs';
import { cli, SANDBOX_STEPS, sandbox, startBenchMirror } from './lib/sandbox.mjs';

const runs = Number(process.env.BENCH_RUNS ?? 10);
const { manifest, mirror } = await startBenchMirror();
const box = sandbox(manifest, mirror.url);
const node = process.execPath;
try {
  const bootstrap = [node, cli, 'bootstrap', '--config', box.configPath, '--root', box.root, '--only', SANDBOX_STEPS];
  timeCommand(bootstrap); // the real install, not measured
  const r = interleaved(
    [
      { name: 'node', run: () => timeCommand([node, '-e', '0']) },
      { name: 'version', run: () => timeCommand([node, cli, '--version']) },
      { name: 'rerun', run: () => timeCommand(bootstrap) },
    ],
    runs,
  );
  const ok = report(
    `Converged re-run (${runs} runs each; steps: ${SANDBOX_STEPS})`,
    [
      { name: 'node -e 0', stats: r.node },
      { name: 'flexnode --version (baseline)', stats: r.version },
      { name: 'bootstrap, converged, vs --version', stats: r.rerun, baseline: r.version, baselineName: 'flexnode --version', target: 5 },
      { name: 'bootstrap, converged, absolute', stats: r.rerun, baseline: r.node, baselineName: 'node -e 0', targetMs: 1000 },
    ],
    'Converged re-run',
  );
  process.exitCode = ok ? 0 : 1;
} finally {
  box.dispose();
  await mirror.close();
}
