// Installs a compiled stand-in (kubelet, kube-proxy, azcmagent) as an executable single file, e.g. into a test
// rootfs or the artifact mirror. The kubelet and kube-proxy are made of modules (./kubelet/*, ./kube-proxy/*): they
// are bundled into one file with esbuild, with their Kubernetes version baked in, so `--version` matches the
// artifact they stand in for.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export type StandinName = 'kubelet' | 'kube-proxy' | 'azcmagent';

/** Path of the compiled stand-in script (dist/fakes/standins/<name>.js). */
export function standinPath(name: StandinName): string {
  return fileURLToPath(new URL(`./${name}.js`, import.meta.url));
}

export interface StandinOptions {
  kubeletVersion?: string;
  /** A broken build of that version (the kubelet only): it runs and reports, and its Node is never Ready. */
  neverReady?: boolean;
}

/** The stand-in as one self-contained script with the Kubernetes version baked in (for a tarball or a mirror). */
export function standinScript(name: StandinName, opts: StandinOptions = {}): string {
  if (name === 'azcmagent') return readFileSync(standinPath(name), 'utf8');
  // esbuild is the repository's bundler (scripts/bundle-package.mjs); loaded only when a kubelet or kube-proxy is installed.
  const esbuild = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
  const out = esbuild.buildSync({
    entryPoints: [standinPath(name)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    logLevel: 'silent',
  });
  let js = out.outputFiles[0]!.text;
  if (!js.startsWith('#!')) js = `#!/usr/bin/env node\n${js}`;
  if (opts.kubeletVersion) {
    const v = opts.kubeletVersion.startsWith('v') ? opts.kubeletVersion : `v${opts.kubeletVersion}`;
    if (!/^v\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/.test(v)) throw new Error(`not a Kubernetes version: ${opts.kubeletVersion}`);
    const placeholder = /(["'])__KUBELET_STANDIN_VERSION__\1/;
    if (!placeholder.test(js)) throw new Error(`${name} stand-in: version placeholder not found (already baked?)`);
    js = js.replace(placeholder, JSON.stringify(v));
  }
  if (opts.neverReady) {
    const placeholder = /(["'])__KUBELET_STANDIN_NEVER_READY__\1/;
    if (!placeholder.test(js)) throw new Error('kubelet stand-in: never-ready placeholder not found');
    js = js.replace(placeholder, '"true"');
  }
  return js;
}

/** Writes the stand-in to `dest` with mode 0755 (shebang `#!/usr/bin/env node`; needs Node >= 20.19 on PATH). */
export function installStandin(name: StandinName, dest: string, opts: StandinOptions = {}): string {
  mkdirSync(dirname(dest), { recursive: true });
  writeFileSync(dest, standinScript(name, opts), { mode: 0o755 });
  chmodSync(dest, 0o755);
  return dest;
}
