#!/usr/bin/env node
// Builds the release tarballs: flexnode for linux-x64 and linux-arm64 with its own Node.js runtime, so a
// user's machine needs no Node. The runtime is the one the root package.json's `releaseNode` pins (a supported
// LTS, whatever the build machine runs): the official binary shipped in the npm package node-linux-<arch>,
// fetched with `npm pack` through the npm registry, checked against the pinned sha512 and cached in
// .cache/release (the build machine's own node serves when it is that very version). Nothing is downloaded from
// nodejs.org.
//
//   node scripts/build-release.mjs [--arch x64,arm64] [--out dist/release]
//
// Output: dist/release/flexnode-<version>-linux-<arch>.tar.gz and a .sha256 next to each (sha256sum format), and
// flexnode-sdk-<version>.tgz (the @flexnode/sdk package, as npm would publish it) with its .sha256.
// Layout inside (one top directory flexnode-<version>-linux-<arch>/):
//   bin/flexnode               sh wrapper: the embedded node on the CLI (bin/aks-flex-node: a link to it,
//                              upstream's name); it exports FLEXNODE_COMMAND, its stable path, for the kubelet's
//                              token command (plugin-arc)
//   node/bin/node              Node.js runtime (+ its LICENSE)
//   lib/node_modules/...       the workspace packages (npm pack) and their production dependencies only
//   share/flexnode-agent.service, install.sh, uninstall.sh, VERSION
// Assumes the workspaces are built (npm run build); it runs the (cached) turbo build to be sure.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { releaseWrapper } from './release-wrapper.mjs';

const repo = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const arches = opt('arch', 'x64,arm64').split(',');
const out = resolve(repo, opt('out', 'dist/release'));
const cache = join(repo, '.cache/release');
const WORKSPACES = [
  'packages/sdk',
  'packages/core',
  'packages/plugin-containerd',
  'packages/plugin-cni',
  'packages/plugin-kube',
  'packages/plugin-arc',
  'packages/cli',
];
const version = JSON.parse(readFileSync(join(repo, 'packages/cli/package.json'), 'utf8')).version;
const { releaseNode } = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
const nodeVersion = releaseNode.version;
const t0 = Date.now();
const step = (what) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)} s] ${what}`);
const run = (cmd, argv, options = {}) => execFileSync(cmd, argv, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', ...options });
const npm = (argv, options = {}) => run('npm', [...argv, '--no-audit', '--no-fund', '--loglevel=error'], options);

for (const arch of arches) if (!['x64', 'arm64'].includes(arch)) throw new Error(`unsupported arch ${arch} (x64, arm64)`);

step(`flexnode ${version}, node ${nodeVersion}, for ${arches.join(', ')}`);
run('npx', ['turbo', 'run', 'build'], { cwd: repo, env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' } });

// 1. The workspace packages, packed as npm would publish them.
const work = join(cache, `work-${process.pid}`);
const packs = join(work, 'packs');
mkdirSync(packs, { recursive: true });
try {
  const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', packs, ...WORKSPACES.flatMap((w) => ['--workspace', w])], { cwd: repo }));
  step(`packed ${packed.map((p) => `${p.name}@${p.version}`).join(', ')}`);
  mkdirSync(out, { recursive: true });
  // The SDK as npm would publish it, for plugin authors without a registry (scripts/new-plugin.mjs --sdk FILE).
  const sdk = packed.find((p) => p.name === '@flexnode/sdk');
  copyFileSync(join(packs, sdk.filename), join(out, sdk.filename));
  writeFileSync(
    join(out, `${sdk.filename}.sha256`),
    `${createHash('sha256')
      .update(readFileSync(join(out, sdk.filename)))
      .digest('hex')}  ${sdk.filename}\n`,
  );
  step(`${relative(repo, join(out, sdk.filename))}: the @flexnode/sdk package`);

  // 2. A staging prefix holding them and their production dependencies (no dev tools). The @flexnode packages
  // come from the tarballs (the root's file: dependencies satisfy the CLI's "0.1.0"), the rest from the registry.
  const lib = join(work, 'lib');
  mkdirSync(lib);
  const deps = Object.fromEntries(packed.map((p) => [p.name, `file:${relative(lib, join(packs, p.filename))}`]));
  writeFileSync(
    join(lib, 'package.json'),
    `${JSON.stringify({ name: 'flexnode-release', version, private: true, type: 'module', dependencies: deps }, null, 2)}\n`,
  );
  npm(['install', '--omit=dev', '--omit=optional', '--ignore-scripts', '--install-links', '--prefer-offline', '--no-package-lock'], { cwd: lib });
  // Pure JavaScript only: one node_modules serves both architectures. A native addon would need a per-arch install.
  const native = findFiles(join(lib, 'node_modules'), (f) => f.endsWith('.node'));
  if (native.length) throw new Error(`native addons in the production tree (need a per-arch install): ${native.join(', ')}`);
  step(`installed production dependencies: ${countPackages(join(lib, 'node_modules'))} packages, ${mb(du(lib))}`);

  for (const arch of arches) {
    const name = `flexnode-${version}-linux-${arch}`;
    const top = join(work, 'stage', name);
    mkdirSync(join(top, 'bin'), { recursive: true });
    mkdirSync(join(top, 'node/bin'), { recursive: true });
    mkdirSync(join(top, 'share'), { recursive: true });
    cpSync(lib, join(top, 'lib'), { recursive: true, verbatimSymlinks: true });
    const node = nodeBinary(arch);
    copyFileSync(node.binary, join(top, 'node/bin/node'));
    chmodSync(join(top, 'node/bin/node'), 0o755);
    if (node.license) copyFileSync(node.license, join(top, 'node/LICENSE'));
    writeFileSync(join(top, 'bin/flexnode'), releaseWrapper(version), { mode: 0o755 });
    chmodSync(join(top, 'bin/flexnode'), 0o755);
    symlinkSync('flexnode', join(top, 'bin/aks-flex-node')); // upstream's (AKSFlexNode) name for the same CLI
    copyFileSync(join(repo, 'packages/cli/assets/flexnode-agent.service'), join(top, 'share/flexnode-agent.service'));
    for (const script of ['install.sh', 'uninstall.sh']) {
      copyFileSync(join(repo, 'scripts', script), join(top, script));
      chmodSync(join(top, script), 0o755);
    }
    writeFileSync(join(top, 'VERSION'), `${version}\n`);
    const tarball = join(out, `${name}.tar.gz`);
    // Reproducible: sorted names, fixed owner and mtime, gzip without name and time.
    run('sh', [
      '-c',
      'tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$1" -cf - "$2" | gzip -n -6 > "$3"',
      'sh',
      join(work, 'stage'),
      name,
      tarball,
    ]);
    const sha = createHash('sha256').update(readFileSync(tarball)).digest('hex');
    writeFileSync(`${tarball}.sha256`, `${sha}  ${name}.tar.gz\n`);
    step(`${relative(repo, tarball)}: ${mb(statSync(tarball).size)}, sha256 ${sha} (node from ${node.from})`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
step('done');

/**
 * The pinned Node.js binary for `arch`: this machine's when it is that version for the native arch, else the npm
 * package node-linux-<arch>, whose tarball must match the pinned sha512 before it is unpacked.
 */
function nodeBinary(arch) {
  if (arch === process.arch && process.platform === 'linux' && process.version === `v${nodeVersion}` && standalone(process.execPath)) {
    return { binary: process.execPath, from: `this machine (${process.execPath})` };
  }
  const pkg = `node-linux-${arch}@${nodeVersion}`;
  const dir = join(cache, `node-linux-${arch}-${nodeVersion}`);
  if (!existsSync(join(dir, 'package/bin/node'))) {
    const expected = releaseNode.integrity?.[arch];
    if (!expected) throw new Error(`package.json releaseNode.integrity has no ${arch} entry for node ${nodeVersion}`);
    mkdirSync(dir, { recursive: true });
    const [{ filename }] = JSON.parse(npm(['pack', '--json', '--pack-destination', dir, pkg], { cwd: dir }));
    const actual = `sha512-${createHash('sha512')
      .update(readFileSync(join(dir, filename)))
      .digest('base64')}`;
    if (actual !== expected) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`${pkg}: the registry's tarball is ${actual}, package.json pins ${expected}`);
    }
    run('tar', ['-xzf', join(dir, filename), '-C', dir]);
    rmSync(join(dir, filename));
  }
  const license = join(dir, 'package/LICENSE');
  return { binary: join(dir, 'package/bin/node'), license: existsSync(license) ? license : undefined, from: `npm ${pkg}` };
}

/** A distribution's node that links a shared libnode cannot be copied alone. */
function standalone(binary) {
  try {
    return !/libnode\.so/.test(run('ldd', [binary]));
  } catch {
    return false;
  }
}

/** Paths (relative to `base`) of the files under it that `match` accepts. */
function findFiles(base, match, dir = base, found = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) findFiles(base, match, path, found);
    else if (match(relative(base, path))) found.push(relative(base, path));
  }
  return found;
}

function countPackages(nodeModules) {
  const pkg = /(^|\/)node_modules\/(@[^/]+\/)?[^/@]+\/package\.json$/;
  return findFiles(nodeModules, (f) => pkg.test(`node_modules/${f}`)).length;
}

function du(dir) {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += du(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
}

function mb(bytes) {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
