#!/usr/bin/env node
// Full bootstrap from a local mirror on a fresh sandbox root against the raw work of the same artifacts:
// curl + sha256sum + tar (+ install of the files) run by this bench. Target: <= 1.3x.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { interleaved, report, timeCommand } from './lib/measure.mjs';
import { cli, SANDBOX_STEPS, sandbox, startBenchMirror } from './lib/sandbox.mjs';

const runs = Number(process.env.BENCH_RUNS ?? 7);
const { manifest, mirror } = await startBenchMirror();
const node = process.execPath;

/** What a shell script would do for the same artifacts: fetch, verify, unpack, put in place. */
function rawWork() {
  const dir = mkdtempSync(join(tmpdir(), 'flexnode-raw-'));
  const script = [
    'set -e',
    ...['containerd', 'runc', 'cni-plugins'].map((name) => {
      const a = manifest.get(name);
      const file = `${dir}/${name}.dl`;
      return `curl -fsS -o ${file} ${mirror.urlOf(a.mirrorPath)} && echo "${a.sha256}  ${file}" | sha256sum -c --quiet -`;
    }),
    `mkdir -p ${dir}/usr/bin ${dir}/opt/cni/bin`,
    `tar -xzf ${dir}/containerd.dl -C ${dir}/usr`,
    `install -m 0755 ${dir}/runc.dl ${dir}/usr/bin/runc`,
    `tar -xzf ${dir}/cni-plugins.dl -C ${dir}/opt/cni/bin`,
  ].join('\n');
  try {
    return timeCommand(['bash', '-c', script]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function flexnodeBootstrap() {
  const box = sandbox(manifest, mirror.url);
  mkdirSync(join(box.root, 'var/lib'), { recursive: true });
  try {
    return timeCommand([node, cli, 'bootstrap', '--config', box.configPath, '--root', box.root, '--only', SANDBOX_STEPS]);
  } finally {
    box.dispose();
  }
}

try {
  const r = interleaved(
    [
      { name: 'raw', run: rawWork },
      { name: 'flexnode', run: flexnodeBootstrap },
    ],
    runs,
  );
  const ok = report(
    `Full bootstrap from a local mirror vs raw curl+sha256sum+tar (${runs} runs each)`,
    [
      { name: 'raw fetch + verify + unpack (baseline)', stats: r.raw },
      { name: 'flexnode bootstrap (fresh root)', stats: r.flexnode, baseline: r.raw, baselineName: 'curl + sha256sum + tar', target: 1.3 },
    ],
    'Fresh bootstrap from a local mirror',
  );
  process.exitCode = ok ? 0 : 1;
} finally {
  await mirror.close();
}
