// Child process of offline-checks.test.ts: runs the checks of arc.connect, arc.node-role and arc.roles on a joined node in a
// fresh process, whose module loads a resolve hook records. argv[2]: `checks` (what status and the agent do) or
// `control` (a check that must ask Azure: proves the hook sees the Azure SDK being loaded).
import { createStep } from '@flexnode/sdk/testing';
import { arcConnect, arcNodeRole, arcRoles } from '../steps.js';
import { joinedNode } from './joined-node.test.helpers.js';

const mode = process.argv[2];
const node = joinedNode({ rolesRecorded: mode !== 'control' });
if (mode === 'control') {
  // A working credential: the unrecorded roles are then listed through the Azure SDK (the request itself fails).
  node.operator.credential.getToken = async () => ({ token: 'stub', expiresOnTimestamp: Date.now() + 3_600_000 });
}
const results = [];
for (const def of [arcConnect, arcNodeRole, arcRoles]) {
  const step = createStep(def, node.host, { config: node.config, services: node.services });
  results.push(
    await step.check().then(
      (r) => r.status,
      (e: Error) => `error: ${e.message.split('\n')[0]}`,
    ),
  );
}
process.stdout.write(`${JSON.stringify({ results, tokenRequests: node.operator.calls })}\n`);
