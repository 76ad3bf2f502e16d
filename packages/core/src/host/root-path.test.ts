import { expect } from 'chai';
import { RootPaths } from './root-path.js';

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
