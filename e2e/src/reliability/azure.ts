// Area 5: Azure faults from the fake ARM (and fake Entra) through the CLI. plugin-arc's steps (agent from the
// mirror, connect through the azcmagent stand-in, roles) run with the real Azure SDK clients against the fakes.
// Transient faults must be retried away; persistent ones reported (exit 1) with a message that says what to do,
// the journal left whole and the lock released; once the fault is gone a re-run recovers, and an unbootstrap
// removes the Arc resources and gives back the pristine tree.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FaultHandle } from '../fakes/server-base.js';
import { AGENT_VERSION, type Infra } from './infra.js';
import {
  addSecret,
  Checks,
  CLIENT_ID,
  CLIENT_SECRET,
  diffTrees,
  excerpt,
  journalState,
  LOG_DIR,
  pool,
  rowOf,
  Sandbox,
  STATE_DIR,
  SUB,
  TENANT,
  type CliRun,
  type Row,
} from './lib.js';

export const ARC_RG = 'rg-arc';
const CLUSTER_RG = 'rg-aks';
const WRONG_SECRET = 'Wrong~s3cret.for-the-401-case-5521';
addSecret(WRONG_SECRET);

/** One Arc machine and its cluster, unique per case so that faults (matched by path) never cross cases. */
export interface ArcBox {
  sb: Sandbox;
  machine: string;
  cluster: string;
  clusterId: string;
  run(args: string[], env?: Record<string, string>): Promise<CliRun>;
  bootstrap(env?: Record<string, string>): Promise<CliRun>;
}

export function arcConfig(infra: Infra, machine: string, clusterId: string, extra: (c: Record<string, any>) => void = () => undefined): Record<string, any> {
  const config: Record<string, any> = {
    azure: {
      subscriptionId: SUB,
      tenantId: TENANT,
      cloud: 'AzurePublicCloud',
      servicePrincipal: { clientId: CLIENT_ID },
      arc: { machineName: machine, resourceGroup: ARC_RG, location: 'westeurope', tags: { env: 'edge' }, autoRoleAssignment: true },
      targetCluster: { resourceId: clusterId, location: 'westeurope' },
      endpoints: { resourceManager: infra.arm.url, authorityHost: infra.entra.url },
    },
    agent: { logLevel: 'debug', logDir: LOG_DIR },
    artifacts: { mirror: infra.mirror.url },
    pluginConfig: {
      '@flexnode/plugin-arc': {
        agent: { source: 'binary', version: AGENT_VERSION, sha256: infra.agentSha256 },
        retry: { maxRetries: 2, retryDelayInMs: 5, maxRetryDelayInMs: 20 },
        pollIntervalMs: 20,
        identityTimeoutSeconds: 5,
        propagationTimeoutSeconds: 2,
      },
      '@flexnode/plugin-kube': { skipPreflight: ['azure-endpoint', 'disk'] },
    },
  };
  extra(config);
  return config;
}

let boxes = 0;

export async function arcBox(infra: Infra, label: string, options: { addCluster?: boolean; config?: (c: Record<string, any>) => void } = {}): Promise<ArcBox> {
  const n = ++boxes;
  const machine = `rel-${n}`;
  const cluster = `aks-rel-${n}`;
  const clusterId = `/subscriptions/${SUB}/resourceGroups/${CLUSTER_RG}/providers/Microsoft.ContainerService/managedClusters/${cluster}`;
  if (options.addCluster !== false) addCluster(infra, cluster);
  const config = arcConfig(infra, machine, clusterId, options.config);
  const sb = await Sandbox.create(`azure-${label}`, config);
  const env = (extra: Record<string, string> = {}) => ({
    NODE_EXTRA_CA_CERTS: infra.arm.certPath,
    AZCMAGENT_STANDIN_ARM: infra.arm.url,
    AZCMAGENT_STANDIN_STATE: join(sb.dir, 'azcmagent-state.json'),
    AZURE_CLIENT_SECRET: CLIENT_SECRET,
    ...extra,
  });
  const run = (args: string[], extra?: Record<string, string>) => sb.run(args, { env: env(extra), timeoutMs: 90_000 });
  return { sb, machine, cluster, clusterId, run, bootstrap: (extra) => run(['bootstrap', '--only', '@flexnode/plugin-arc'], extra) };
}

export function addCluster(infra: Infra, cluster: string): void {
  infra.arm.addCluster({
    subscriptionId: SUB,
    resourceGroup: CLUSTER_RG,
    name: cluster,
    serverUrl: 'https://127.0.0.1:6443',
    caData: 'Q0E=',
    location: 'westeurope',
  });
}

interface FaultCase {
  name: string;
  /** Set the fault up; returns how to clear it. */
  inject(infra: Infra, box: ArcBox): { clear(): void; hits?: () => number };
  /** A persistent fault: the run fails with this message. A transient one (undefined): the run succeeds. */
  message?: RegExp;
  /** For transient faults: how many answers the fault gave (retries happened). */
  minHits?: number;
  /** Env of the faulted run only. */
  env?: Record<string, string>;
  /** The fault hits unbootstrap rather than bootstrap. */
  onUnbootstrap?: boolean;
}

const machinePath = (box: ArcBox) => `/machines/${box.machine}`;
const handle = (h: FaultHandle) => ({ clear: () => h.clear(), hits: () => h.hits });

const CASES: FaultCase[] = [
  {
    name: '429 once (retried)',
    inject: (i, b) => handle(i.arm.inject({ method: 'GET', pathMatch: machinePath(b), status: 429, retryAfterMs: 10, times: 1 })),
    minHits: 1,
  },
  {
    name: '503 once (retried)',
    inject: (i, b) => handle(i.arm.inject({ method: 'GET', pathMatch: machinePath(b), status: 503, times: 1 })),
    minHits: 1,
  },
  {
    name: 'dropped connection once (retried)',
    inject: (i, b) => handle(i.arm.inject({ method: 'GET', pathMatch: machinePath(b), dropConnection: true, times: 1 })),
    minHits: 1,
  },
  {
    name: '429 persistent (reported)',
    inject: (i, b) => handle(i.arm.inject({ method: 'GET', pathMatch: machinePath(b), status: 429, retryAfterMs: 5, times: 1000 })),
    message: /kept answering HTTP 429.*also after retries/,
    minHits: 3,
  },
  {
    name: '500 persistent (reported)',
    inject: (i, b) => handle(i.arm.inject({ method: 'GET', pathMatch: machinePath(b), status: 500, times: 1000 })),
    message: /kept answering HTTP 500.*also after retries/,
    minHits: 3,
  },
  {
    name: '401 from ARM',
    inject: (i, b) => handle(i.arm.inject({ method: 'GET', pathMatch: machinePath(b), status: 401, code: 'InvalidAuthenticationToken', times: 1000 })),
    message: /Azure Resource Manager rejected the token of .*InvalidAuthenticationToken/,
  },
  {
    name: '401 from Entra (wrong client secret)',
    inject: () => ({ clear: () => undefined }),
    env: { AZURE_CLIENT_SECRET: WRONG_SECRET },
    message: /Microsoft Entra rejected .*(secret|client)/i,
  },
  {
    name: '403 on the role assignment (role and scope named)',
    inject: (i, b) => {
      i.authorize.deny = (action, scope) => /roleAssignments\/write$/i.test(action) && scope.toLowerCase().includes(`/managedclusters/${b.cluster}`);
      return { clear: () => (i.authorize.deny = undefined) };
    },
    message:
      /lacks the permission 'Microsoft\.Authorization\/roleAssignments\/write' on scope '\/subscriptions\/[^']+\/managedClusters\/aks-rel-\d+'.*User Access Administrator/i,
  },
  {
    name: '404: the cluster does not exist',
    inject: (i, b) => ({ clear: () => addCluster(i, b.cluster) }),
    message: /was not found .*(ResourceNotFound|NotFound)/,
  },
  {
    name: 'dropped connections (reported)',
    inject: (i, b) => handle(i.arm.inject({ method: 'GET', pathMatch: machinePath(b), dropConnection: true, times: 1000 })),
    message: /could not reach Azure Resource Manager/,
    minHits: 3,
  },
  {
    name: 'long-running delete fails (unbootstrap)',
    onUnbootstrap: true,
    inject: (i, b) => {
      i.arm.injectLroFailure({ method: 'DELETE', pathMatch: machinePath(b), code: 'DeleteFailed', message: 'injected: the machine could not be deleted' });
      return { clear: () => undefined }; // the LRO fault answers once
    },
    // A machine the agent no longer knows (forced local disconnect): unbootstrap deletes it through ARM.
    env: { AZCMAGENT_STANDIN_STATE: '/nonexistent/standin-state.json' },
    message: /operation Failed: DeleteFailed/,
  },
];

async function stateProblems(c: Checks, box: ArcBox, what: string): Promise<void> {
  const journal = await journalState(box.sb.path(`${STATE_DIR}/journal.json`));
  c.ok(journal === 'ok' || journal === 'absent', `${what}: journal ${journal}`);
  const state = box.sb.path(STATE_DIR);
  const temps = existsSync(state) ? readdirSync(state).filter((n) => n.startsWith('.flexnode-tmp-')) : [];
  c.ok(temps.length === 0, `${what}: temp files in the state dir: ${temps.join(', ')}`);
  c.ok(!existsSync(box.sb.path('/run/flexnode/flexnode.lock')), `${what}: the lock was not released`);
}

export async function azureArea(infra: Infra, parallel: number): Promise<Row[]> {
  const previousMode = infra.arm.machineDeleteMode;
  infra.arm.machineDeleteMode = 'async'; // the current API's delete: 202 and an operation to poll
  try {
    const results = await pool(CASES, parallel, async (k) => {
      const c = new Checks(`azure: ${k.name}`);
      const box = await arcBox(infra, k.name, { addCluster: !k.name.startsWith('404') });
      const pristine = await box.sb.snapshot('restore');
      if (k.onUnbootstrap) {
        const ok = await box.bootstrap();
        c.ok(ok.code === 0, `bootstrap exited ${ok.code}: ${excerpt(ok)}`);
      }
      const fault = k.inject(infra, box);
      const faulted = k.onUnbootstrap ? await box.run(['unbootstrap'], k.env) : await box.bootstrap(k.env);
      const text = `${faulted.stdout}\n${faulted.stderr}`.replace(/\s+/g, ' ');
      const hits = fault.hits?.();
      fault.clear();
      await box.sb.scan();
      if (k.message) {
        c.ok(faulted.code === 1, `exit ${faulted.code} (expected 1): ${excerpt(faulted)}`);
        c.ok(k.message.test(text), `the message does not match ${k.message}: ${excerpt(faulted, 600)}`);
        await stateProblems(c, box, 'after the fault');
        // Recovery: the same command again, with the fault gone.
        const again = k.onUnbootstrap ? await box.run(['unbootstrap']) : await box.bootstrap();
        c.ok(again.code === 0, `re-run after clearing the fault exited ${again.code}: ${excerpt(again)}`);
      } else {
        c.ok(faulted.code === 0, `a transient fault was not retried away: exit ${faulted.code}: ${excerpt(faulted)}`);
      }
      if (k.minHits !== undefined) c.ok((hits ?? 0) >= k.minHits, `the fault answered ${hits} time(s), expected >= ${k.minHits} (retries)`);
      if (!k.onUnbootstrap) {
        await box.sb.scan();
        const machine = infra.arm.machine(box.machine);
        c.ok(machine?.principalId, 'no machine with an identity after the recovered bootstrap');
        const un = await box.run(['unbootstrap']);
        c.ok(un.code === 0, `unbootstrap exited ${un.code}: ${excerpt(un)}`);
        if (machine?.principalId)
          c.ok(
            infra.arm.roleAssignments().every((a) => a.principalId !== machine.principalId),
            'role assignments left after unbootstrap',
          );
      }
      c.ok(infra.arm.machine(box.machine) === undefined, 'the Arc machine resource is left after unbootstrap');
      await stateProblems(c, box, 'after unbootstrap');
      const tree = await box.sb.snapshot('restore');
      c.ok(JSON.stringify(tree) === JSON.stringify(pristine), `not pristine after unbootstrap: ${diffTrees(pristine, tree).join(', ')}`);
      await box.sb.dispose();
      return { k, c };
    });
    const transient = results.filter((r) => !r.k.message);
    const persistent = results.filter((r) => r.k.message);
    return [
      rowOf(
        'azure',
        `transient ${transient.map((r) => r.k.name.replace(/ \(.*\)$/, '')).join(', ')}: retried`,
        transient.map((r) => r.c),
      ),
      ...persistent.map((r) => rowOf('azure', `${r.k.name}: reported, journal whole, re-run recovers`, [r.c])),
    ];
  } finally {
    infra.arm.machineDeleteMode = previousMode;
  }
}
