import { expect } from 'chai';
import { API_VERSION, ContainerRuntime, instantiate } from '@flexnode/sdk';
import { runStepCycle, testConfig } from '@flexnode/sdk/testing';
import { containerdConfigDocument, CRI_PLUGIN } from './containerd-config.js';
import plugin from './plugin.js';
import { releaseFixture } from './fixtures.test.helpers.js';

describe('@flexnode/plugin-containerd', () => {
  it('declares its steps against the current SDK', () => {
    expect(plugin.name).to.equal('@flexnode/plugin-containerd');
    expect(plugin.apiVersion).to.equal(API_VERSION);
    expect(plugin.steps.map((s) => s.id)).to.deep.equal([
      'runc.binary',
      'containerd.binaries',
      'containerd.packages',
      'containerd.config',
      'containerd.service',
    ]);
    // Every step is part of the container runtime: another provider of container-runtime replaces all of them.
    for (const step of plugin.steps) expect(step.provides, step.id).to.deep.equal([ContainerRuntime]);
    const service = plugin.services!.find((s) => s.capability === ContainerRuntime)!;
    const runtime = instantiate(service, () => testConfig());
    expect(runtime).to.deep.equal({
      criEndpoint: 'unix:///run/containerd/containerd.sock',
      unit: 'containerd.service',
      cgroupDriver: 'systemd',
      sandboxImage: 'mcr.microsoft.com/oss/v2/kubernetes/pause:3.10.2', // AKS's default (AgentBaker e2e/node_config.go)
    });
    // The kubelet is told the image containerd's config.toml names, configured or not.
    const configured = testConfig({ containerd: { pauseImage: 'registry.example/pause:3.10' } });
    const doc = containerdConfigDocument(configured, { binDir: '/opt/cni/bin', confDir: '/etc/cni/net.d' }) as {
      plugins: Record<string, { sandbox_image: string }>;
    };
    expect(doc.plugins[CRI_PLUGIN]!.sandbox_image).to.equal('registry.example/pause:3.10');
    expect((instantiate(service, () => configured) as { sandboxImage: string }).sandboxImage).to.equal('registry.example/pause:3.10');
  });

  it('runs every release step in order through a full cycle on one machine', async () => {
    const { host, config } = releaseFixture();
    host.seedFile('/usr/bin/runc', 'previous runc', 0o755);
    const steps = plugin.steps.filter((s) => (s.when ? s.when(config) : true) === true);
    expect(steps.map((s) => s.id)).to.not.include('containerd.packages');
    const report = await runStepCycle(steps, { host, config });
    expect(Object.values(report.initial).map((r) => r.status)).to.deep.equal(['drifted', 'missing', 'missing', 'missing']);
    expect(Object.keys(report.installed.files)).to.include.members([
      '/usr/bin/runc',
      '/usr/bin/containerd',
      '/etc/containerd/config.toml',
      '/etc/systemd/system/containerd.service',
    ]);
  });
});
