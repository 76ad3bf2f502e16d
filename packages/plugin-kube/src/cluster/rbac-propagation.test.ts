import { expect } from 'chai';
import type { ApiAnswer } from '../kubelet/api.js';
import { isAuthorizationDenial, whileDenied } from './rbac-propagation.js';

function clock() {
  let t = 1_000_000;
  return { now: () => t, sleep: async (ms: number) => void (t += ms) };
}
const logger = () => {
  const warnings: string[] = [];
  return { warnings, log: { debug() {}, info() {}, warn: (m: string) => warnings.push(m), error() {} } };
};
const answers = (...statuses: number[]) => {
  let i = 0;
  return async (): Promise<ApiAnswer> => ({ status: statuses[Math.min(i++, statuses.length - 1)]!, body: { message: 'Access denied for action: x' } });
};

describe('the node identity denied while Azure RBAC propagates', () => {
  it('asks again until the grant is effective, saying once why it waits', async () => {
    const c = clock();
    const { warnings, log } = logger();
    const answer = await whileDenied('registering Node edge-1', answers(403, 403, 403, 201), { seconds: 600, pollMs: 10_000, log, ...c });
    expect(answer.status).to.equal(201);
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.include('registering Node edge-1').and.include('Access denied for action: x').and.include('rbacPropagationSeconds');
  });

  it('gives up at the deadline with the last denial; never retries a 401, or with 0 seconds', async () => {
    const c = clock();
    const start = c.now();
    const { log } = logger();
    expect((await whileDenied('x', answers(403), { seconds: 60, pollMs: 25_000, log, ...c })).status).to.equal(403);
    expect(c.now() - start).to.equal(60_000);
    let calls = 0;
    const counted = (status: number) => async () => (calls++, { status, body: {} });
    await whileDenied('x', counted(401), { seconds: 60, pollMs: 1000, log, ...c });
    await whileDenied('x', counted(403), { seconds: 0, pollMs: 1000, log, ...c });
    expect(calls).to.equal(2);
  });

  it("asks again only after an authorizer's denial, never an admission plugin's", async () => {
    const forbidden = (message: string) => ({ status: 403, body: { message } });
    expect(isAuthorizationDenial(forbidden('nodes "edge-1" is forbidden: User "x" cannot patch resource "nodes" in API group ""'))).to.equal(true);
    expect(isAuthorizationDenial(forbidden('Access denied for action: Microsoft.ContainerService/managedClusters/nodes/read'))).to.equal(true);
    expect(isAuthorizationDenial(forbidden('nodes "edge-1" is forbidden: node "edge-1" is not allowed to modify taints'))).to.equal(false);
    expect(isAuthorizationDenial({ status: 401, body: { message: 'Unauthorized' } })).to.equal(false);
    const c = clock();
    const { log } = logger();
    let calls = 0;
    const admission = async () => (calls++, forbidden('node "edge-1" is not allowed to modify taints'));
    await whileDenied('x', admission, { seconds: 600, pollMs: 1000, log, ...c });
    expect(calls).to.equal(1);
  });
});
