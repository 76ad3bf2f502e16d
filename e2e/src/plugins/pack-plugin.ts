// Packs a plugin of this repository the way its author ships it outside the monorepo: a tarball that carries its
// bundleDependencies (@flexnode/sdk and the like), so a node installs it from a plain path with no registry.
// npm pack inside a workspace leaves hoisted dependencies out of the bundle, hence the staging copy.
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO, run } from './helpers.js';

/** Pack `pluginDir` (built) into `outDir` with its bundled dependencies inside; returns the tarball's path. */
export async function packWithBundledDependencies(pluginDir: string, outDir: string): Promise<string> {
  const stage = await mkdtemp(join(tmpdir(), 'flexnode-pack-'));
  try {
    const pkg = JSON.parse(await readFile(join(pluginDir, 'package.json'), 'utf8')) as {
      files?: string[];
      bundleDependencies?: string[];
      devDependencies?: unknown;
    };
    for (const entry of ['package.json', ...(pkg.files ?? [])]) await cp(join(pluginDir, entry), join(stage, entry), { recursive: true });
    for (const dep of pkg.bundleDependencies ?? []) {
      const target = join(stage, 'node_modules', dep);
      await mkdir(dirname(target), { recursive: true });
      if (dep === '@flexnode/sdk') {
        // The SDK as npm publishes it (its package.json `files`), not the workspace folder with sources and tests.
        const packed = await run('npm', ['pack', join(REPO, 'packages/sdk'), '--pack-destination', stage, '--json']);
        const [{ filename }] = JSON.parse(packed.stdout) as { filename: string }[];
        await mkdir(target);
        const untar = await run('tar', ['-xzf', join(stage, filename!), '-C', target, '--strip-components=1']);
        if (untar.code !== 0) throw new Error(untar.stderr);
        await rm(join(stage, filename!));
      } else {
        await cp(await packageDir(pluginDir, dep), target, { recursive: true });
      }
    }
    delete pkg.devDependencies;
    await writeFile(join(stage, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
    const packed = await run('npm', ['pack', stage, '--pack-destination', outDir, '--json', '--ignore-scripts']);
    if (packed.code !== 0) throw new Error(`npm pack ${pluginDir}: ${packed.stderr}`);
    return join(outDir, (JSON.parse(packed.stdout) as { filename: string }[])[0]!.filename);
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}

/** The folder of `dep` as Node resolves it from `from`: the nearest node_modules/<dep> up the tree. */
async function packageDir(from: string, dep: string): Promise<string> {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', dep);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) throw new Error(`${dep} is not installed above ${from}`);
  }
}
