import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RootPaths, checkRoot, underRoot } from './root-path.js';

describe('host/RootPaths', () => {
  it('prefixes target paths with the root and normalises them', () => {
    const paths = new RootPaths('/tmp/r/');
    expect(paths.resolve('/etc/containerd/config.toml')).to.equal('/tmp/r/etc/containerd/config.toml');
    expect(paths.resolve('/etc/./a/../b')).to.equal('/tmp/r/etc/b');
    expect(paths.resolve('/')).to.equal('/tmp/r');
    expect(new RootPaths('/').resolve('/etc//x')).to.equal('/etc/x');
  });

  it('refuses relative paths and ".." climbing above the root', () => {
    const paths = new RootPaths('/tmp/r');
    expect(() => paths.resolve('etc/x')).to.throw(/absolute/);
    expect(() => paths.resolve('/../etc/passwd')).to.throw(/escapes the root/);
    expect(() => paths.resolve('/etc/../../x')).to.throw(/escapes the root/);
  });
});

describe('underRoot / checkRoot', () => {
  it('refuses an empty or blank root with exit code 2, never taking it as /', () => {
    for (const root of ['', ' ', '\t']) {
      expect(() => new RootPaths(root), JSON.stringify(root))
        .to.throw(/empty/)
        .with.property('exitCode', 2);
      expect(() => underRoot(root, '/etc/x')).to.throw(/empty/);
    }
    expect(() => checkRoot('/tmp/a\nb')).to.throw(/control character/);
    // A file can hold no tree; a directory, or one not made yet, can.
    const file = join(mkdtempSync(join(tmpdir(), 'flexnode-root-')), 'a-file');
    writeFileSync(file, '');
    expect(() => checkRoot(file)).to.throw(/is not a directory/);
    expect(checkRoot('/tmp')).to.equal('/tmp');
    expect(checkRoot('/tmp/flexnode-not-made-yet-root')).to.equal('/tmp/flexnode-not-made-yet-root');
  });

  it('joins under the root and refuses what resolves outside it', () => {
    expect(underRoot('/srv/box', '/var/log/flexnode')).to.equal('/srv/box/var/log/flexnode');
    expect(underRoot('/', '/var/log/flexnode')).to.equal('/var/log/flexnode');
    expect(() => underRoot('/srv/box', '/var/../../etc/shadow')).to.throw(/escapes the root/);
    expect(() => underRoot('/srv/box', 'var/log')).to.throw(/absolute/);
  });

  it('maps a host path back to its target path, leaving paths outside the root alone', () => {
    const paths = new RootPaths('/srv/box');
    expect(paths.toTarget('/srv/box/var/lib/x')).to.equal('/var/lib/x');
    expect(paths.toTarget('/srv/box')).to.equal('/');
    expect(paths.toTarget('/srv/boxer/x')).to.equal('/srv/boxer/x');
  });
});
