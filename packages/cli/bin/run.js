#!/usr/bin/env node
// flexnode CLI entry point. `--version` is answered without loading oclif (it is what scripts and health
// probes call most); everything else goes through oclif (bundled into lib/ with the commands, see
// scripts/bundle-package.mjs), which reads the shipped oclif.manifest.json so
// commands are imported only when they run.
const args = process.argv.slice(2);
// One plugin directory for root, shared by the CLI run by hand and the agent's unit (which sets the same path),
// outside /var/lib/flexnode (a completed unbootstrap removes that). Others keep oclif's per-user default.
if (process.getuid?.() === 0 && !process.env.FLEXNODE_DATA_DIR) process.env.FLEXNODE_DATA_DIR = '/var/lib/flexnode-plugins';
// `flexnode agent` (the long-lived process of flexnode-agent.service) starts without oclif when its arguments are
// plainly the agent's: oclif would stay resident (~16 MB) for the life of the agent. Flags and plugin listing are
// core's, shared with the oclif command; anything else (help, a bad flag) goes to oclif below.
let agentCode;
if (args[0] === 'agent') {
  const { runAgentFromArgv } = await import('@flexnode/core/agent');
  const { fileURLToPath } = await import('node:url');
  agentCode = await runAgentFromArgv({ argv: args.slice(1), cliRoot: fileURLToPath(new URL('..', import.meta.url)) });
}
if (agentCode !== undefined) {
  process.exitCode = agentCode;
} else if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
  const { readFileSync } = await import('node:fs');
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`${pkg.name}/${pkg.version} ${process.platform}-${process.arch} node-${process.version}\n`);
} else {
  const { execute } = await import('../lib/oclif.js');
  await execute({ dir: import.meta.url });
}
