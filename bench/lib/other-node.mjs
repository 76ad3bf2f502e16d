// Other Node.js majors for benches, from the npm registry's official binary packages (node-linux-<arch>),
// cached in .cache/bench-node. Nothing is downloaded from anywhere but the registry.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { repo } from './sandbox.mjs';

/** Path of a Node.js `major` binary, or undefined (with the reason printed) when the registry has none. */
export function nodeMajor(major) {
  const pkg = `node-linux-${process.arch}`;
  const dir = join(repo, '.cache/bench-node', `${major}`);
  const binary = join(dir, 'package/bin/node');
  if (existsSync(binary)) return binary;
  try {
    mkdirSync(dir, { recursive: true });
    const versions = JSON.parse(execFileSync('npm', ['view', `${pkg}@${major}`, 'version', '--json'], { encoding: 'utf8' }));
    const version = [versions].flat().at(-1);
    execFileSync('npm', ['pack', '--silent', '--pack-destination', dir, `${pkg}@${version}`], { cwd: dir, stdio: 'ignore' });
    const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz'));
    execFileSync('tar', ['-xzf', join(dir, tgz), '-C', dir]);
    rmSync(join(dir, tgz));
    return existsSync(binary) ? binary : undefined;
  } catch (error) {
    console.log(`(Node ${major}: no registry package could be used: ${error.message.split('\n')[0]})`);
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
}
