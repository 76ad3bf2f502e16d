// Shared fixtures of the tests (named *.test.* so it is never published; not a spec: mocha loads *.test.js).
import { MemoryHost, testConfig } from '@flexnode/sdk/testing';
import type { FlexnodeConfig } from '@flexnode/sdk';
import { containerdSpec, runcSpec } from './components.js';

/** Fake release artifacts served by a MemoryHost, pinned through the config (sha256 override). */
export function releaseFixture(options: { arch?: 'amd64' | 'arm64'; systemd?: boolean; dryRun?: boolean } = {}) {
  const arch = options.arch ?? 'amd64';
  const host = new MemoryHost({ arch, systemd: options.systemd, dryRun: options.dryRun });
  const runcBytes = Buffer.from('#!fake runc 1.1.14\n');
  const runcSha = host.addArtifact(runcSpec.url('1.1.14', arch), runcBytes);
  const bins = {
    'bin/containerd': 'fake containerd',
    'bin/containerd-shim-runc-v2': 'fake shim',
    'bin/ctr': 'fake ctr',
  };
  const tarball = Buffer.from(`fake containerd tarball ${arch}`);
  const containerdSha = host.addArtifact(containerdSpec.url('1.7.22', arch), tarball, bins);
  const config: FlexnodeConfig = testConfig({
    runc: { version: '1.1.14', sha256: runcSha },
    containerd: { version: '1.7.22', sha256: { [arch]: containerdSha } },
  });
  // containerd "answers on its socket" once the unit is active.
  host.onExec('ctr', () =>
    host.units.get('containerd.service')?.active
      ? { exitCode: 0, stdout: 'Client:\n  Version: 1.7.22\nServer:\n  Version: 1.7.22\n', stderr: '' }
      : { exitCode: 1, stdout: '', stderr: 'ctr: failed to dial "/run/containerd/containerd.sock": connection refused' },
  );
  return { host, config, runcSha, containerdSha, bins, tarball };
}

export const sha256 = async (data: string | Buffer) => (await import('node:crypto')).createHash('sha256').update(data).digest('hex');

/** Skip a real-component test with a printed reason (never pass silently). */
export function skipWith(ctx: Mocha.Context, reason: string): never {
  console.log(`      SKIP: ${reason}`);
  ctx.skip();
}

/** The absolute path of an executable on PATH (plus the sbin dirs), or undefined. */
export async function findExecutable(name: string): Promise<string | undefined> {
  const { access, constants } = await import('node:fs/promises');
  const dirs = [...(process.env['PATH'] ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  for (const dir of dirs) {
    try {
      await access(`${dir}/${name}`, constants.X_OK);
      return `${dir}/${name}`;
    } catch {
      /* next */
    }
  }
  return undefined;
}
