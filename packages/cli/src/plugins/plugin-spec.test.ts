import { expect } from 'chai';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePluginSpec, PluginSpecError } from './plugin-spec.js';

describe('plugins install: what an argument names', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flexnode-spec-'));
    await writeFile(join(dir, 'plugin-x-1.0.0.tgz'), 'tarball');
    await writeFile(join(dir, 'plugin-y.tar.gz'), 'tarball');
    await mkdir(join(dir, 'plugin-dir'));
    await writeFile(join(dir, 'plugin-dir/package.json'), '{}');
    await mkdir(join(dir, 'not-a-package'));
    await writeFile(join(dir, 'notes.txt'), 'text');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('reads ./x.tgz, /abs/x.tgz, a bare x.tgz, ./dir, ../dir and file: paths as local installs, never GitHub', async () => {
    const local = (url: string) => ({ type: 'repo', url: `file:${url}` });
    expect(await parsePluginSpec('./plugin-x-1.0.0.tgz', dir)).to.deep.equal(local(join(dir, 'plugin-x-1.0.0.tgz')));
    expect(await parsePluginSpec(join(dir, 'plugin-y.tar.gz'), '/')).to.deep.equal(local(join(dir, 'plugin-y.tar.gz')));
    expect(await parsePluginSpec('plugin-x-1.0.0.tgz', dir)).to.deep.equal(local(join(dir, 'plugin-x-1.0.0.tgz')));
    expect(await parsePluginSpec('./plugin-dir', dir)).to.deep.equal(local(join(dir, 'plugin-dir')));
    expect(await parsePluginSpec('../plugin-dir', join(dir, 'not-a-package'))).to.deep.equal(local(join(dir, 'plugin-dir')));
    expect(await parsePluginSpec(`file:${join(dir, 'plugin-dir')}`, '/')).to.deep.equal(local(join(dir, 'plugin-dir')));
  });

  it('refuses a local path that is missing or is neither a package folder nor a tarball', async () => {
    for (const [input, message] of [
      ['./absent.tgz', /no such file or folder/],
      ['./not-a-package', /a folder with a package\.json or an npm tarball/],
      ['./notes.txt', /a folder with a package\.json or an npm tarball/],
    ] as const) {
      const error = await parsePluginSpec(input, dir).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, input).to.be.instanceOf(PluginSpecError);
      expect((error as Error).message, input).to.match(message);
    }
  });

  it('reads npm names with an optional version, repository URLs and GitHub shorthands as before', async () => {
    expect(await parsePluginSpec('@org/plugin-cilium@0.1.0', dir)).to.deep.equal({ type: 'npm', name: '@org/plugin-cilium', tag: '0.1.0' });
    expect(await parsePluginSpec('@org/plugin-cilium', dir)).to.deep.equal({ type: 'npm', name: '@org/plugin-cilium', tag: 'latest' });
    expect(await parsePluginSpec('flexnode-plugin-x@^2', dir)).to.deep.equal({ type: 'npm', name: 'flexnode-plugin-x', tag: '^2' });
    expect(await parsePluginSpec('https://example.test/x.git', dir)).to.deep.equal({ type: 'repo', url: 'https://example.test/x.git' });
    expect(await parsePluginSpec('org/plugin-x', dir)).to.deep.equal({ type: 'repo', url: 'https://github.com/org/plugin-x' });
    const error = await parsePluginSpec('Not A Name', dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as Error).message).to.contain('neither an npm package name nor a path');
  });

  it('reads ~/ as the home folder', async () => {
    const error = await parsePluginSpec('~/flexnode-no-such-plugin.tgz', dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as Error).message).to.contain(join(homedir(), 'flexnode-no-such-plugin.tgz'));
  });
});
