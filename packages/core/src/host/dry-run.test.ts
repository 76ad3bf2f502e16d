import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { describePlannedChange } from './plan.js';
import { makeHost, makeTmp, treeListing } from './support.test.helpers.js';

describe('host: dry run', () => {
  it('changes nothing on disk (full tree listing) and fills the plan with human descriptions', async () => {
    const root = await makeTmp();
    await fs.mkdir(join(root, 'etc/containerd'), { recursive: true });
    await fs.writeFile(join(root, 'etc/containerd/config.toml'), 'old');
    await fs.mkdir(join(root, 'proc/sys/net/ipv4'), { recursive: true });
    await fs.writeFile(join(root, 'proc/sys/net/ipv4/ip_forward'), '0\n');
    await fs.mkdir(join(root, 'etc/systemd/system'), { recursive: true });
    await fs.writeFile(join(root, 'etc/systemd/system/containerd.service'), '[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n');
    const staging = await makeTmp('flexnode-src-');
    await fs.writeFile(join(staging, 'runc'), Buffer.alloc(2500), { mode: 0o755 });
    const before = await treeListing(root);

    const { real, plan } = await makeHost({ root, dryRun: true });
    const host = real.forStep('containerd.config', 'p');
    expect(host.dryRun).to.equal(true);
    expect(await host.files.write('/etc/containerd/config.toml', 'x'.repeat(1200))).to.equal(true);
    expect(await host.files.write('/etc/containerd/new.toml', 'abc')).to.equal(true);
    expect(await host.files.write('/var/lib/kubelet/kubeconfig', 'token: hidden-secret', { secret: true })).to.equal(true);
    expect(await host.files.copyFrom(join(staging, 'runc'), '/usr/local/sbin/runc')).to.equal(true);
    expect(await host.files.mkdir('/etc/kubernetes/manifests')).to.equal(true);
    expect(await host.files.remove('/etc/containerd/config.toml')).to.equal(true);
    expect(await host.sysctl.set('net.ipv4.ip_forward', '1')).to.equal(true);
    expect(await host.systemd.enable('containerd.service')).to.equal(true);
    expect(await host.systemd.start('containerd.service')).to.equal(true);
    await host.changes.record('arc-connected', { machine: 'm1' });
    // Reads work normally against the real root.
    expect(await host.files.readText('/etc/containerd/config.toml')).to.equal('old');
    expect(await host.sysctl.get('net.ipv4.ip_forward')).to.equal('0');
    const archive = await host.downloads.unpack(join(staging, 'nothing.tar.gz'));
    expect(await host.files.copyFrom(join(archive, 'bin/containerd'), '/usr/local/bin/containerd')).to.equal(true);
    await real.dispose();

    expect(await treeListing(root)).to.deep.equal(before);
    const lines = plan.map(describePlannedChange);
    expect(lines).to.deep.equal([
      'write /etc/containerd/config.toml (mode 0644, 1.2 kB, changed)',
      'write /etc/containerd/new.toml (mode 0644, 3 B, new)',
      'write /var/lib/kubelet/kubeconfig (mode 0600, secret, 20 B, new)',
      'write /usr/local/sbin/runc (mode 0755, 2.5 kB, new)',
      'mkdir /etc/kubernetes/manifests (mode 0755)',
      'remove /etc/containerd/config.toml',
      'sysctl net.ipv4.ip_forward 0 → 1',
      'enable containerd.service',
      'start containerd.service',
      'record arc-connected',
      'write /usr/local/bin/containerd (mode 0644, new)',
    ]);
    expect(plan.every((p) => p.step === 'containerd.config')).to.equal(true);
    expect(JSON.stringify(plan)).not.to.contain('hidden-secret');
  });

  it('a revert in a dry run plans the undo from the journal without touching anything', async () => {
    const f = await makeHost();
    await f.real.forStep('s', 'p').files.write('/etc/x.conf', 'x');
    const before = await treeListing(f.root);
    const dry = await makeHost({ root: f.root, dryRun: true, journal: f.journal });
    await dry.real.forStep('s', 'p').changes.revert();
    expect(await treeListing(f.root)).to.deep.equal(before);
    expect(dry.plan.map(describePlannedChange)).to.deep.equal(['remove /etc/x.conf', 'remove directory /etc (when empty)']);
    expect(f.journal!.get('s')!.changes).to.have.length(2);
  });
});
