import { expect } from 'chai';
import { createHash } from 'node:crypto';
import {
  ArcIdentity,
  AzureCredential,
  capabilityToken,
  LOAD_STEP,
  loadStep,
  type ConfigError,
  type DeferredStepInstance,
  type FlexnodeConfig,
} from '@flexnode/sdk';
import { createStep, MemoryHost, runStepCycle, testConfig } from '@flexnode/sdk/testing';
import { ArcAzureContext } from './azure-context.js';
import { AGENT_PATH } from './azcmagent.js';
import plugin from './plugin.js';
import { arcAgent, arcConnect, arcNodeRole, arcPreflight, arcRoles } from './steps.js';

const AGENT_URL = 'https://mirror.example/azcmagent/v1.50.02997.1/azcmagent-linux-amd64';
const AGENT_BYTES = '#!/usr/bin/env node\n// azcmagent stand-in bytes\n';

function binaryConfig(): FlexnodeConfig {
  const config = testConfig();
  config.pluginConfig = {
    '@flexnode/plugin-arc': {
      agent: { source: 'binary', version: '1.50.02997.1', sha256: createHash('sha256').update(AGENT_BYTES).digest('hex'), url: AGENT_URL },
    },
  };
  return config;
}

describe('plugin-arc steps', () => {
  it('declares its steps, order, capabilities and services', () => {
    expect(plugin.steps.map((s) => s.id)).to.deep.equal(['arc.preflight', 'arc.agent', 'arc.connect', 'arc.node-role', 'arc.roles']);
    expect(arcPreflight.preflight).to.deep.equal({ for: ['arc.agent', 'arc.connect', 'arc.node-role', ArcIdentity] });
    expect(arcConnect.after).to.deep.equal(['arc.agent']);
    expect(arcRoles.after).to.deep.equal(['arc.connect', 'arc.node-role']);
    expect(arcConnect.provides).to.include(ArcIdentity);
    expect(plugin.services?.map((s) => s.capability)).to.deep.equal([AzureCredential, ArcIdentity]);
  });

  it("every step's operations are deferred to impl.js, which core loads before a run: loading changes nothing", async () => {
    const host = new MemoryHost();
    const config = testConfig();
    const services = new Map<symbol, unknown>([
      [capabilityToken('azure-credential'), new ArcAzureContext(config, undefined, undefined, { interactive: false })],
      [capabilityToken('arc-identity'), undefined],
    ]);
    for (const def of plugin.steps) {
      const step = createStep(def, host, { config, services });
      expect(typeof (step as Partial<DeferredStepInstance>)[LOAD_STEP], def.id).to.equal('function');
      await loadStep(step);
    }
    expect(host.ops).to.deep.equal([]);
  });

  it('arc.node-role applies with the default roles of arc-msi; neither step when the identity needs no role', () => {
    const config = testConfig();
    expect(arcNodeRole.when!(config)).to.equal(true);
    config.azure.arc = { ...config.azure.arc, roles: ['Azure Kubernetes Service Cluster User Role', 'Azure Kubernetes Service RBAC Admin'] };
    expect(arcNodeRole.when!(config)).to.match(/does not name "flexnode-node"/);
    expect(arcRoles.when!(config)).to.equal(true);
    // bootstrap-token: the kubelet has its own certificate; a kube-proxy flexnode may run keeps the Arc identity.
    const proxied = testConfig({ kubernetes: { auth: 'bootstrap-token' } });
    expect(arcRoles.when!(proxied)).to.equal(true);
    expect(arcNodeRole.when!(proxied)).to.equal(true);
    const bootstrap = testConfig({ kubernetes: { auth: 'bootstrap-token', serviceProxy: 'aks' } });
    expect(arcRoles.when!(bootstrap)).to.match(/bootstrap-token \(the kubelet has its own certificate\) and flexnode runs no kube-proxy/);
    expect(arcNodeRole.when!(bootstrap)).to.match(/bootstrap-token/);
    bootstrap.azure.arc = { ...bootstrap.azure.arc, roles: ['flexnode-node', 'Azure Kubernetes Service RBAC Reader'] }; // named on purpose: granted anyway
    expect(arcRoles.when!(bootstrap)).to.equal(true);
    expect(arcNodeRole.when!(bootstrap)).to.match(/no component of this node authenticates with the Arc identity/);
  });

  it('arc.roles applies only with autoRoleAssignment; Arc can be turned off', () => {
    const config = testConfig();
    expect(arcRoles.when!(config)).to.equal(true);
    config.azure.arc = { ...config.azure.arc, autoRoleAssignment: false };
    expect(arcRoles.when!(config)).to.match(/autoRoleAssignment is not true/);
    config.azure.arc = { enabled: false };
    expect(arcConnect.when!(config)).to.match(/enabled is false/);
  });

  it('arc.agent installs a pinned binary from the mirror and uninstall removes exactly it', async () => {
    const host = new MemoryHost();
    host.addArtifact(AGENT_URL, AGENT_BYTES);
    host.onExec(AGENT_PATH, (args) => ({ exitCode: 0, stdout: args[0] === 'version' ? 'azcmagent version 1.50.02997.1\n' : '', stderr: '' }));
    const report = await runStepCycle(arcAgent, { config: binaryConfig(), host });
    expect(report.initial['arc.agent']!.status).to.equal('missing');
    expect(report.installed.files[AGENT_PATH]).to.include({ mode: 0o755 });
  });

  it("arc.agent's artifacts for a mirror: the pinned file of the binary source, none for apt; a deb without its URL is a config error", async () => {
    expect(await arcAgent.artifacts!(testConfig(), 'amd64')).to.deep.equal([]);
    const sha256 = createHash('sha256').update(AGENT_BYTES).digest('hex');
    expect(await arcAgent.artifacts!(binaryConfig(), 'amd64')).to.deep.equal([
      { name: 'azcmagent 1.50.02997.1 (amd64, binary)', url: AGENT_URL, mirrorPath: 'azcmagent/v1.50.02997.1/azcmagent-linux-amd64', sha256 },
    ]);
    const deb = binaryConfig();
    const agent = (deb.pluginConfig!['@flexnode/plugin-arc'] as { agent: { source: string; url?: string } }).agent;
    agent.source = 'deb';
    delete agent.url;
    const error = await Promise.resolve(arcAgent.artifacts!(deb, 'amd64')).then(
      () => undefined,
      (e: ConfigError) => e,
    );
    expect(error?.code).to.equal('CONFIG_INVALID');
    expect(error?.issues).to.deep.equal([
      { path: 'pluginConfig["@flexnode/plugin-arc"].agent.url', message: 'required for flexnode mirror sync (or agent.repository.url)' },
    ]);
  });

  it('arc.agent refuses an unpinned download and names the field', async () => {
    const config = binaryConfig();
    (config.pluginConfig!['@flexnode/plugin-arc'] as { agent: { sha256?: string } }).agent.sha256 = undefined;
    const step = createStep(arcAgent, new MemoryHost(), { config });
    const err = await step.install().then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).to.include('agent.sha256');
  });

  it('arc.agent leaves an agent that was already there alone', async () => {
    const host = new MemoryHost().onExec('azcmagent', () => ({ exitCode: 0, stdout: 'azcmagent version 1.49\n', stderr: '' }));
    const step = createStep(arcAgent, host, { config: testConfig() });
    expect((await step.check()).status).to.equal('ok');
    await step.uninstall();
    expect(host.ops.filter((o) => o.op !== 'revert')).to.deep.equal([]);
  });

  it('in a dry run arc.connect records its intent and never runs azcmagent connect or calls Azure', async () => {
    const host = new MemoryHost({ dryRun: true });
    const config = testConfig();
    const ctx = new ArcAzureContext(config, undefined, undefined, { interactive: false });
    const calls: string[] = [];
    (ctx.credential as { getToken: unknown }).getToken = async () => {
      calls.push('token');
      throw new Error('no Azure in this test');
    };
    const services = new Map<symbol, unknown>([[capabilityToken('azure-credential'), ctx]]);
    const step = createStep(arcConnect, host, { config, services });
    expect((await step.check()).status).to.equal('missing');
    await step.install();
    expect(host.ops.map((o) => `${o.op} ${o.target}`)).to.deep.equal(['record connect machine test-node to Azure Arc in test-rg/westus']);
    expect(calls).to.deep.equal([]);
    expect(host.journal.get('arc.connect') ?? []).to.deep.equal([]);
  });

  it('placeholders from the example config fail the checks with a clear message, before any Azure call', async () => {
    const config = testConfig();
    config.azure.subscriptionId = 'your-subscription-id';
    const services = new Map<symbol, unknown>([
      [capabilityToken('azure-credential'), new ArcAzureContext(config, undefined, undefined, { interactive: false })],
      [capabilityToken('arc-identity'), undefined],
    ]);
    for (const def of [arcConnect, arcRoles]) {
      const err = await createStep(def, new MemoryHost({ dryRun: true }), { config, services })
        .check()
        .then(
          () => undefined,
          (e: Error) => e,
        );
      expect(err?.message).to.include('azure.subscriptionId still holds the example placeholder "your-subscription-id"');
    }
  });
});
