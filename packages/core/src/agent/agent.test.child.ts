// Child process of agent.test.ts: a real agent process with real signal handlers.
// argv: configPath root sourcesJson; env AGENT_TEST_MAX_CYCLES.
import { Agent } from './loop.js';

const [configPath, root, sources] = process.argv.slice(2) as [string, string, string];
const maxCycles = process.env.AGENT_TEST_MAX_CYCLES ? Number(process.env.AGENT_TEST_MAX_CYCLES) : undefined;
const agent = new Agent({ configPath, root, sources: JSON.parse(sources), only: ['t.slow', 't.after'], intervalMs: 50, maxCycles });
process.exitCode = await agent.run();
