import { expect } from 'chai';
import type { Artifact } from './host.js';
import { releaseFiles, type ReleaseFilesSpec } from './release-files.js';
import { defineStep } from './step.js';
import { Tokens } from './tokens.js';
import { createStep, MemoryHost, runStepCycle, testConfig } from './testing/index.js';

const spec: ReleaseFilesSpec = {
  record: 'widget-files',
  from: 'bin',
  to: '/usr/local/bin',
  include: (name) => name !== 'LICENSE',
  required: ['widgetd'],
  layoutHint: 'serve the upstream tarball',
};

function serve(host: MemoryHost, version: string, entries: Record<string, string>): Artifact {
  const url = `https://example.test/widget-${version}.tgz`;
  const sha256 = host.addArtifact(url, `widget ${version} ${JSON.stringify(entries)}`, entries);
  return { name: `widget ${version} (amd64)`, url, mirrorPath: `widget/v${version}/widget.tgz`, sha256 };
}

const stepFor = (artifact: () => Artifact, files: ReleaseFilesSpec = spec) =>
  defineStep({
    id: 'widget.files',
    title: 'widget',
    inject: { host: Tokens.Host },
    create: ({ host }) => {
      const release = releaseFiles(host, files);
      return { check: () => release.check(artifact()), install: () => release.install(artifact()), uninstall: () => release.uninstall() };
    },
  });

describe('releaseFiles (fetch, unpack, install a verified release)', () => {
  it('installs the files of the archive directory, leaves others out, and uninstall restores the machine', async () => {
    const host = new MemoryHost().seedFile('/usr/local/bin/widgetctl', 'the distro one', 0o755);
    const v1 = serve(host, '1.0.0', { 'bin/widgetd': 'd1', 'bin/widgetctl': 'c1', 'bin/LICENSE': 'MIT', 'README.md': 'hi' });
    const report = await runStepCycle(
      stepFor(() => v1),
      { host, config: testConfig() },
    );
    expect(report.initial['widget.files']).to.deep.equal({ status: 'missing', reason: 'widget 1.0.0 (amd64) is not installed in /usr/local/bin' });
    expect(
      Object.keys(report.installed.files)
        .filter((p) => p.startsWith('/usr/local/bin/'))
        .sort(),
    ).to.deep.equal(['/usr/local/bin/widgetctl', '/usr/local/bin/widgetd']);
    expect(report.installed.files['/usr/local/bin/widgetd']!.mode).to.equal(0o755);
    expect(host.files.get('/usr/local/bin/widgetctl')!.content.toString()).to.equal('the distro one');
  });

  it('checks from the journaled hashes without downloading; a replaced file or another version is drift', async () => {
    const host = new MemoryHost();
    const v1 = serve(host, '1.0.0', { 'bin/widgetd': 'd1', 'bin/widgetctl': 'c1' });
    let wanted = v1;
    const step = createStep(
      stepFor(() => wanted),
      host,
      { config: testConfig() },
    );
    await step.install();
    const ops = host.ops.length;
    expect(await step.check()).to.deep.equal({ status: 'ok', detail: 'widget 1.0.0 (amd64): 2 files in /usr/local/bin' });
    host.files.get('/usr/local/bin/widgetd')!.content = Buffer.from('tampered');
    expect((await step.check()).status).to.equal('drifted');
    expect(host.ops.length, 'check downloads nothing and changes nothing').to.equal(ops);

    // A new version drops widgetctl: it is removed, and uninstall still restores the pristine machine.
    wanted = serve(host, '2.0.0', { 'bin/widgetd': 'd2' });
    const drift = await step.check();
    expect(drift.status === 'drifted' && drift.reason).to.equal('widget 1.0.0 (amd64) is installed, the config asks for widget 2.0.0 (amd64)');
    await step.install();
    expect((await step.check()).status).to.equal('ok');
    expect(host.files.has('/usr/local/bin/widgetctl')).to.equal(false);
    await step.uninstall();
    expect([...host.files.keys()].filter((p) => p.startsWith('/usr/'))).to.deep.equal([]);
    expect(host.journal.get('widget.files')).to.deep.equal([]);
  });

  it('a directory moved in the config is drift: the files are installed there and the old ones removed', async () => {
    const host = new MemoryHost();
    const v1 = serve(host, '1.0.0', { 'bin/widgetd': 'd1', 'bin/widgetctl': 'c1' });
    const step = createStep(
      stepFor(() => v1, { ...spec, to: '/usr/local/bin' }),
      host,
      { config: testConfig() },
    );
    await step.install();
    const moved = createStep(
      stepFor(() => v1, { ...spec, to: '/usr/lib/widget' }),
      host,
      { config: testConfig() },
    );
    const drift = await moved.check();
    expect(drift.status === 'drifted' && drift.reason).to.equal('widget 1.0.0 (amd64) is installed in /usr/local/bin, the config asks for /usr/lib/widget');
    await moved.install();
    expect((await moved.check()).status).to.equal('ok');
    expect(host.files.get('/usr/lib/widget/widgetd')!.content.toString()).to.equal('d1');
    expect(host.files.has('/usr/local/bin/widgetd')).to.equal(false);
    await moved.uninstall();
    expect([...host.files.keys()].filter((p) => p.startsWith('/usr/'))).to.deep.equal([]);
  });

  it('refuses an archive without the required files, before copying anything, with the layout hint', async () => {
    const host = new MemoryHost();
    const odd = serve(host, '1.0.0', { 'bin/widgetctl': 'c1' });
    const error = await createStep(
      stepFor(() => odd),
      host,
      { config: testConfig() },
    )
      .install()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect((error as Error).message).to.equal('widget 1.0.0 (amd64): the archive lacks bin/widgetd');
    expect((error as { hint?: string }).hint).to.equal('serve the upstream tarball');
    expect(host.ops.map((o) => o.op)).to.deep.equal(['download']);
  });

  it('in a dry run only plans the download', async () => {
    const host = new MemoryHost({ dryRun: true });
    const v1 = serve(host, '1.0.0', { 'bin/widgetd': 'd1' });
    await createStep(
      stepFor(() => v1),
      host,
      { config: testConfig() },
    ).install();
    expect(host.ops.map((o) => `${o.op} ${o.target}`)).to.deep.equal([`download ${v1.url}`]);
    expect(host.logLines.map((l) => l.message)).to.deep.equal(['would unpack bin/* of widget 1.0.0 (amd64) into /usr/local/bin']);
  });
});
