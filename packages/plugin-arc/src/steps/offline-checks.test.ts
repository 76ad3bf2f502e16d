import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createStep } from '@flexnode/sdk/testing';
import { arcAgent, arcConnect, arcNodeRole, arcRoles } from '../steps.js';
import { joinedNode, PRINCIPAL } from './joined-node.test.helpers.js';

const failure = (p: Promise<unknown>) =>
  p.then(
    () => expect.fail('expected an error'),
    (e: Error & { code?: string; hint?: string }) => e,
  );

describe('after the join, the operator credential is for changes only', () => {
  it('arc.connect, arc.node-role and arc.roles check healthy from the agent and the records, never asking for a token', async () => {
    const node = joinedNode();
    for (const def of [arcConnect, arcNodeRole, arcRoles]) {
      const result = await createStep(def, node.host, { config: node.config, services: node.services }).check();
      expect(result.status, JSON.stringify(result)).to.equal('ok');
      expect(JSON.stringify(result)).to.include(def === arcConnect ? PRINCIPAL : 'flexnode node + kube-proxy (test-cluster');
    }
    expect(node.operator.calls).to.equal(0);
    expect(node.host.ops).to.deep.equal([]);
  });

  it('drift the node can see itself is reported without the operator: another machine, a changed identity record', async () => {
    const node = joinedNode();
    node.host.onExec('/opt/azcmagent/bin/azcmagent', () => ({ exitCode: 0, stdout: JSON.stringify({ status: 'Disconnected' }), stderr: '' }));
    expect((await createStep(arcConnect, node.host, { config: node.config, services: node.services }).check()).status).to.equal('missing');
    const other = joinedNode();
    other.config.azure.arc = { ...other.config.azure.arc, roles: ['Azure Kubernetes Service Cluster User Role'] };
    // Another role list than the one verified: only Azure can tell, and the node says what that needs.
    const roles = await createStep(arcRoles, other.host, { config: other.config, services: other.services }).check();
    expect(roles.status).to.equal('missing');
    expect(JSON.stringify(roles)).to.include("needs the operator's Azure credential");
    // AKS's kube-proxy serves the node: flexnode's leaves the identity's components, the same role list now means other roles.
    const proxy = joinedNode();
    proxy.config.kubernetes = { serviceProxy: 'aks' };
    const withProxy = await createStep(arcRoles, proxy.host, { config: proxy.config, services: proxy.services }).check();
    expect(withProxy.status).to.equal('missing');
    expect(node.operator.calls + other.operator.calls + proxy.operator.calls).to.equal(2);
  });

  it('connecting, assigning roles and unbootstrap fail without it, naming what needs it; nothing is forgotten', async () => {
    const node = joinedNode();
    const steps = Object.fromEntries(
      [arcAgent, arcConnect, arcRoles].map((def) => [def.id, createStep(def, node.host, { config: node.config, services: node.services })]),
    );
    const roles = await failure(steps['arc.roles']!.uninstall());
    expect(roles.code).to.equal('AZURE_OPERATOR_CREDENTIAL_REQUIRED');
    expect(roles.message).to.include('unbootstrap of arc.roles (deleting the 1 role assignment(s) flexnode created').and.include('no Azure credential');
    expect(roles.hint).to.include('status, doctor and the agent');
    const connect = await failure(steps['arc.connect']!.uninstall());
    expect(connect.message).to.include('unbootstrap of arc.connect (disconnecting test-node from Azure Arc');
    expect((await failure(steps['arc.roles']!.install())).message).to.include('arc.roles (assigning roles');
    expect((await failure(steps['arc.connect']!.install())).message).to.include('arc.connect (connecting test-node');
    expect(node.host.journal.get('arc.roles')).to.have.length(2);
    expect(node.host.journal.get('arc.connect')).to.have.length(1);
  });

  it('the checks load no Azure SDK (modules resolved in a fresh process); a check that asks Azure does', async function () {
    this.timeout(30_000);
    const dir = mkdtempSync(join(tmpdir(), 'arc-modules-'));
    try {
      const log = join(dir, 'resolved.txt');
      const hooks = join(dir, 'hooks.mjs');
      writeFileSync(
        hooks,
        `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  if (specifier.startsWith('@azure/')) appendFileSync(${JSON.stringify(log)}, specifier + '\\n');
  return next(specifier, context);
}\n`,
      );
      const register = join(dir, 'register.mjs');
      writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
      const child = fileURLToPath(new URL('./offline-checks.test.child.js', import.meta.url));
      const run = (mode: string) =>
        new Promise<{ out: { results: string[]; tokenRequests: number }; loaded: string[] }>((resolve, reject) => {
          writeFileSync(log, '');
          execFile(process.execPath, ['--import', pathToFileURL(register).href, child, mode], { encoding: 'utf8' }, (error, stdout, stderr) => {
            if (error) return reject(new Error(`${error.message}\n${stderr}`));
            resolve({ out: JSON.parse(stdout), loaded: readFileSync(log, 'utf8').split('\n').filter(Boolean) });
          });
        });
      const checks = await run('checks');
      expect(checks.out).to.deep.equal({ results: ['ok', 'ok', 'ok'], tokenRequests: 0 });
      expect(checks.loaded).to.deep.equal([]);
      const control = await run('control');
      expect(
        control.loaded.some((m) => m.startsWith('@azure/arm-authorization')),
        control.loaded.join(', '),
      ).to.equal(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
