// Installs a compiled stand-in (kubelet, azcmagent) as an executable single file, e.g. into a test rootfs or
// the artifact mirror. The kubelet gets its Kubernetes version baked in, so `kubelet --version` matches the
// artifact it stands in for.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export type StandinName = 'kubelet' | 'azcmagent';

/** Path of the compiled stand-in script (dist/fakes/standins/<name>.js). */
export function standinPath(name: StandinName): string {
  return fileURLToPath(new URL(`./${name}.js`, import.meta.url));
}

/** The stand-in's source with the kubelet version baked in (for packing into a tarball or a mirror). */
export function standinScript(name: StandinName, opts: { kubeletVersion?: string } = {}): string {
  let js = readFileSync(standinPath(name), 'utf8');
  if (name === 'kubelet' && opts.kubeletVersion) {
    const v = opts.kubeletVersion.startsWith('v') ? opts.kubeletVersion : `v${opts.kubeletVersion}`;
    if (!/^v\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/.test(v)) throw new Error(`not a Kubernetes version: ${opts.kubeletVersion}`);
    const placeholder = "'__KUBELET_STANDIN_VERSION__'";
    if (!js.includes(placeholder)) throw new Error('kubelet stand-in: version placeholder not found (already baked?)');
    js = js.replace(placeholder, JSON.stringify(v));
  }
  return js;
}

/** Writes the stand-in to `dest` with mode 0755 (shebang `#!/usr/bin/env node`; needs Node >= 20.19 on PATH). */
export function installStandin(name: StandinName, dest: string, opts: { kubeletVersion?: string } = {}): string {
  mkdirSync(dirname(dest), { recursive: true });
  writeFileSync(dest, standinScript(name, opts), { mode: 0o755 });
  chmodSync(dest, 0o755);
  return dest;
}
