// Shared fixtures of the tests (named *.test.* so it is never published; not a spec: mocha loads *.test.js).
import type { FlexnodeConfig } from '@flexnode/sdk';
import { MemoryHost, testConfig } from '@flexnode/sdk/testing';
import { cniPluginsUrl } from './artifact.js';

export const PLUGIN_ENTRIES = {
  bridge: 'fake bridge',
  'host-local': 'fake host-local',
  loopback: 'fake loopback',
  portmap: 'fake portmap',
  LICENSE: 'Apache-2.0',
  'README.md': '# plugins',
};

/** A MemoryHost serving a fake CNI plugins tarball, pinned through the config (sha256 override). */
export function cniFixture(options: { arch?: 'amd64' | 'arm64'; dryRun?: boolean; config?: Partial<FlexnodeConfig> } = {}) {
  const arch = options.arch ?? 'amd64';
  const host = new MemoryHost({ arch, dryRun: options.dryRun });
  const sha = host.addArtifact(cniPluginsUrl('1.5.1', arch), `fake cni tarball ${arch}`, PLUGIN_ENTRIES);
  const config = testConfig({ cni: { version: '1.5.1', sha256: sha, podCIDR: '10.244.3.0/24' }, ...options.config });
  return { host, config, sha };
}

/** Skip a real-component test with a printed reason (never pass silently). */
export function skipWith(ctx: Mocha.Context, reason: string): never {
  console.log(`      SKIP: ${reason}`);
  ctx.skip();
}
