// Entry of the agent's worker process (see worker.ts): started by the agent with an IPC channel, one request.
import { workerMain } from './worker.js';

await workerMain();
