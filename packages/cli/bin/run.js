#!/usr/bin/env node
// flexnode CLI entry point. `--version` is answered without loading oclif (it is what scripts and health
// probes call most); everything else goes through oclif (bundled into lib/ with the commands, see
// scripts/bundle-package.mjs), which reads the shipped oclif.manifest.json so
// commands are imported only when they run.
const args = process.argv.slice(2);
// One plugin directory for root, shared by the CLI run by hand and the agent's unit (which sets the same path),
// outside /var/lib/flexnode (a completed unbootstrap removes that). Others keep oclif's per-user default.
if (process.getuid?.() === 0 && !process.env.FLEXNODE_DATA_DIR) process.env.FLEXNODE_DATA_DIR = '/var/lib/flexnode-plugins';
if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
  const { readFileSync } = await import('node:fs');
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`${pkg.name}/${pkg.version} ${process.platform}-${process.arch} node-${process.version}\n`);
} else {
  const { execute } = await import('../lib/oclif.js');
  await execute({ dir: import.meta.url });
}
