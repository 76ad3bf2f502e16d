// Packs the azcmagent STAND-IN as a Debian package, laid out as Microsoft's `azcmagent` package installs the CLI
// (/opt/azcmagent/bin/azcmagent), so a test can serve it from a real apt repository and install it with apt.
// Built with dpkg-deb: a real .deb that dpkg unpacks, registers and purges like any other.
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { standinScript } from './install.js';

const execFileP = promisify(execFile);

/** The stand-in's own version (azcmagent.ts VERSION), which `azcmagent version` prints. */
export const AZCMAGENT_STANDIN_VERSION = '1.50.02997.1';

export interface StandinDebOptions {
  /** Debian package version; default the stand-in's own. */
  version?: string;
  /** Debian architecture (amd64, arm64). The script needs node at run time (no Depends: a box binds it in). */
  arch: string;
}

/** Builds `azcmagent_<version>_<arch>.deb` in `outDir` and returns its path. */
export async function buildAzcmagentDeb(outDir: string, opts: StandinDebOptions): Promise<string> {
  const version = opts.version ?? AZCMAGENT_STANDIN_VERSION;
  if (!/^[0-9][A-Za-z0-9.+~-]*$/.test(version)) throw new Error(`not a Debian version: ${version}`);
  const stage = mkdtempSync(join(tmpdir(), 'azcmagent-deb-'));
  try {
    mkdirSync(join(stage, 'DEBIAN'), { recursive: true });
    writeFileSync(
      join(stage, 'DEBIAN/control'),
      [
        'Package: azcmagent',
        `Version: ${version}`,
        `Architecture: ${opts.arch}`,
        'Maintainer: flexnode e2e <e2e@flexnode.invalid>',
        'Section: admin',
        'Priority: optional',
        'Description: STAND-IN for the Azure Connected Machine agent (tests only)',
        " Not Microsoft's agent: a small script that talks to the fake ARM of flexnode's tests.",
        '',
      ].join('\n'),
    );
    const bin = join(stage, 'opt/azcmagent/bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'azcmagent'), standinScript('azcmagent'), { mode: 0o755 });
    chmodSync(join(bin, 'azcmagent'), 0o755);
    mkdirSync(outDir, { recursive: true });
    const deb = join(outDir, `azcmagent_${version}_${opts.arch}.deb`);
    await execFileP('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', stage, deb]);
    return deb;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}
