import { expect } from 'chai';
import { runStepCycle, MemoryHost, testConfig } from '@flexnode/sdk/testing';
import { containerdBinaries } from './steps.js';
import { containerdConfig } from './steps.js';
import { containerdPackages } from './steps.js';
import { containerdService } from './steps.js';
import { runcBinary } from './steps.js';

describe('containerd.packages (containerd.source: apt)', () => {
  const apt = testConfig({ containerd: { source: 'apt' } });

  it('applies only with source apt, and the release steps say why they stand aside', () => {
    expect(containerdPackages.when!(apt)).to.equal(true);
    expect(containerdPackages.when!(testConfig())).to.be.a('string').and.contain('release');
    for (const step of [runcBinary, containerdBinaries]) {
      expect(step.when!(testConfig())).to.equal(true);
      expect(step.when!(apt)).to.be.a('string').and.contain('apt');
    }
  });

  it('installs containerd and runc with apt, idempotently, and removes only what it installed', async () => {
    const host = new MemoryHost();
    host.packages.add('runc');
    const report = await runStepCycle(containerdPackages, { host, config: apt });
    expect(report.installOps.map((o) => `${o.op} ${o.target}`)).to.deep.equal(['apt-install containerd']);
    expect(report.installed.packages).to.deep.equal(['containerd', 'runc']);
    expect([...host.packages]).to.deep.equal(['runc']);
  });

  it('runs the whole apt variant (packages, config, service) through a cycle', async () => {
    const host = new MemoryHost().onExec('ctr', () => ({ exitCode: 0, stdout: '', stderr: '' }));
    await runStepCycle([containerdPackages, containerdConfig, containerdService], { host, config: apt });
  });
});
