// In-process rig for plugin-arc against the fakes: the REAL Azure SDK clients and a real ClientSecretCredential
// (fake Entra), the azcmagent STAND-IN run as a child process for each `azcmagent` the steps execute, and the
// SDK's MemoryHost for the machine. Nothing in plugin-arc knows about the fakes: the rig passes the fake CA
// through AzureContextOverrides (additionalPolicies), the product's own extension point.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { capabilityToken, type FlexnodeConfig, type StepDefinition, type StepInstance } from '@flexnode/sdk';
import { createStep, MemoryHost, testConfig } from '@flexnode/sdk/testing';
import { ArcAzureContext, ArcNodeIdentity, arcAgent, arcConnect, arcNodeRole, arcRoles } from '@flexnode/plugin-arc';
import { armCallers } from '../fakes/arm-callers.js';
import { FakeArm } from '../fakes/fake-arm.js';
import { FakeEntra } from '../fakes/fake-entra.js';
import { standinPath } from '../fakes/standins/install.js';
import { trustPolicy } from '../fakes/tls.js';

export const SUB = '11111111-2222-3333-4444-555555555555';
export const TENANT = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
export const CLIENT_ID = 'cccccccc-0000-0000-0000-0000000000a1';
export const CLIENT_SECRET = 'Sup3r~s3cret.value-NEVER-printed-42';
export const CLUSTER_RG = 'rg-aks';
export const CLUSTER = 'aks-edge';
export const CLUSTER_ID = `/subscriptions/${SUB}/resourceGroups/${CLUSTER_RG}/providers/Microsoft.ContainerService/managedClusters/${CLUSTER}`;
export const ARC_RG = 'rg-arc';
export const MACHINE = 'edge-1';
export const USER_ROLE = '4abbcc35-e782-43d8-92c5-2d3f1bd2253f';
export const RBAC_ADMIN = '3498e952-d568-435e-9b2c-8d77e338d7f7';
export const STEPS: StepDefinition[] = [arcAgent, arcConnect, arcNodeRole, arcRoles];

/** Everything the fakes and the stand-in saw or wrote: scanned for secrets. */
export interface Transcript {
  argv: string[][];
  outputs: string[];
  errors: string[];
}

export class Fakes {
  private constructor(
    readonly arm: FakeArm,
    readonly entra: FakeEntra,
  ) {}

  static async start(options: { enforceRbac?: boolean; roleReplicationMs?: number; publishedDataAction?: (action: string) => boolean } = {}): Promise<Fakes> {
    const entra = await FakeEntra.start({ clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }], tenantId: TENANT });
    const arm = await FakeArm.start({
      tenantId: TENANT,
      enforceRbac: options.enforceRbac,
      roleReplicationMs: options.roleReplicationMs,
      publishedDataAction: options.publishedDataAction,
      acceptToken: armCallers(
        entra,
        () => [],
        () => undefined,
      ), // the operator only: these rigs have no HIMDS
    });
    return new Fakes(arm, entra);
  }

  /** The rigs' cluster (CLUSTER in CLUSTER_RG, westeurope) in the fake ARM, with `more` of its properties. */
  addTestCluster(more: { kubernetesVersion?: string } = {}): void {
    this.arm.addCluster({
      subscriptionId: SUB,
      resourceGroup: CLUSTER_RG,
      name: CLUSTER,
      serverUrl: 'https://127.0.0.1:6443',
      caData: 'Q0E=',
      location: 'westeurope',
      ...more,
    });
  }

  async stop(): Promise<void> {
    await this.arm.stop();
    await this.entra.stop();
  }

  /** The operator's object id (the service principal of CLIENT_ID). */
  get operatorId(): string {
    return this.entra.clients.find((c) => c.clientId === CLIENT_ID)!.objectId;
  }

  /** Tokens the fake Entra issued (must never show up in logs, argv or the journal). */
  tokens(): string[] {
    return this.entra.issued.map((t) => t.token);
  }
}

/** One machine (MemoryHost + stand-in state) wired to the fakes. */
export class Rig {
  readonly host = new MemoryHost();
  readonly tmp = mkdtempSync(join(tmpdir(), 'arc-rig-'));
  readonly standinState = join(this.tmp, 'azcmagent-state.json');
  readonly transcript: Transcript = { argv: [], outputs: [], errors: [] };
  config: FlexnodeConfig;

  constructor(
    readonly fakes: Fakes,
    configure: (c: FlexnodeConfig) => void = () => undefined,
  ) {
    const config = testConfig({
      azure: {
        subscriptionId: SUB,
        tenantId: TENANT,
        cloud: 'AzurePublicCloud',
        servicePrincipal: { clientId: CLIENT_ID },
        arc: { machineName: MACHINE, resourceGroup: ARC_RG, location: 'westeurope', tags: { env: 'edge', owner: 'flexnode' }, autoRoleAssignment: true },
        targetCluster: { resourceId: CLUSTER_ID, location: 'westeurope' },
        endpoints: { resourceManager: fakes.arm.url, authorityHost: fakes.entra.url },
      },
      pluginConfig: {
        '@flexnode/plugin-arc': {
          agent: { source: 'none' },
          retry: { maxRetries: 2, retryDelayInMs: 5, maxRetryDelayInMs: 20 },
          pollIntervalMs: 10,
          identityTimeoutSeconds: 2,
          propagationTimeoutSeconds: 2,
        },
      },
    });
    configure(config);
    this.config = config;
    this.host.onExec('azcmagent', (args, options) => this.azcmagent(args, options.env));
  }

  /** Runs the stand-in like the real Host would run azcmagent: a child process with the fake ARM trusted (async: the fakes live in this process). */
  private azcmagent(args: readonly string[], env?: Record<string, string>): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    this.transcript.argv.push([...args]);
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [standinPath('azcmagent'), ...args],
        {
          encoding: 'utf8',
          env: {
            ...process.env,
            ...env,
            NODE_EXTRA_CA_CERTS: this.fakes.arm.certPath,
            AZCMAGENT_STANDIN_ARM: this.fakes.arm.url,
            AZCMAGENT_STANDIN_STATE: this.standinState,
          },
        },
        (error, stdout, stderr) => {
          this.transcript.outputs.push(stdout ?? '', stderr ?? '');
          const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 1) : 0;
          resolve({ exitCode: code, stdout: stdout ?? '', stderr: stderr ?? '' });
        },
      );
    });
  }

  /** The services core would inject, built by plugin-arc with the fake CA trusted. */
  services(): Map<symbol, unknown> {
    const policy = { policy: trustPolicy(this.fakes.arm.cert), position: 'perCall' as const };
    const ctx = new ArcAzureContext(this.config, this.host.forStep('service.azure-credential'), undefined, {
      clientOptions: { additionalPolicies: [policy] },
      credentialOptions: { additionalPolicies: [policy] },
      env: { AZURE_CLIENT_SECRET: CLIENT_SECRET },
      interactive: false,
    });
    return new Map<symbol, unknown>([
      [capabilityToken('azure-credential'), ctx],
      [capabilityToken('arc-identity'), new ArcNodeIdentity(this.host.forStep('service.arc-identity'))],
    ]);
  }

  /** Fresh step instances (as a new flexnode run would create them). */
  steps(): [StepDefinition, StepInstance][] {
    const services = this.services();
    return STEPS.map((s) => [s, createStep(s, this.host, { config: this.config, services })]);
  }

  /** A fresh instance of one step. */
  step(id: string): StepInstance {
    return this.steps().find(([def]) => def.id === id)![1];
  }

  /** What core's bootstrap does per step: check, install when not ok, check again. Returns the steps installed. */
  async bootstrap(): Promise<string[]> {
    const installed: string[] = [];
    for (const [def, step] of this.steps()) {
      if (def.when && def.when(this.config) !== true) continue;
      const first = await step.check().catch((e: Error) => this.fail(e));
      if (first.status === 'ok') continue;
      await step.install().catch((e: Error) => this.fail(e));
      const after = await step.check().catch((e: Error) => this.fail(e));
      if (after.status !== 'ok') throw new Error(`${def.id}: check after install: ${after.status}: ${after.reason}`);
      installed.push(def.id);
    }
    return installed;
  }

  /** What core's unbootstrap does: uninstall in reverse order. */
  async unbootstrap(): Promise<void> {
    for (const [, step] of this.steps().reverse()) await step.uninstall().catch((e: Error) => this.fail(e));
  }

  private fail(error: Error): never {
    this.transcript.errors.push(`${error.message}\n${(error as { hint?: string }).hint ?? ''}`);
    throw error;
  }

  /** The step's custom journal records of a type. */
  records(step: string, type: string): Record<string, unknown>[] {
    return (this.host.journal.get(step) ?? []).filter((c) => c.kind === 'custom' && c.type === type).map((c) => (c as { data: Record<string, unknown> }).data);
  }

  standin(): { status: string; secretsOnArgv: string[]; authMode: string; argv: string[]; principalId?: string } | undefined {
    return existsSync(this.standinState) ? JSON.parse(readFileSync(this.standinState, 'utf8')) : undefined;
  }

  /** Everything a person or another process could read: logs, errors, journal, argv, child output, stand-in state. */
  visibleText(): string {
    return [
      ...this.host.logLines.map((l) => l.message),
      ...this.transcript.errors,
      ...this.transcript.outputs,
      ...this.transcript.argv.map((a) => a.join(' ')),
      JSON.stringify([...this.host.journal]),
      JSON.stringify(this.host.ops),
      existsSync(this.standinState) ? readFileSync(this.standinState, 'utf8') : '',
    ].join('\n');
  }

  dispose(): void {
    rmSync(this.tmp, { recursive: true, force: true });
  }
}
