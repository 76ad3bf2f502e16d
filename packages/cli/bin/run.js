#!/usr/bin/env node
// flexnode CLI entry point. `--version` is answered without loading oclif (it is what scripts and health
// probes call most); everything else goes through oclif, which reads the shipped oclif.manifest.json so
// commands are imported only when they run.
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
  const { readFileSync } = await import('node:fs');
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`${pkg.name}/${pkg.version} ${process.platform}-${process.arch} node-${process.version}\n`);
} else {
  const { execute } = await import('@oclif/core');
  await execute({ dir: import.meta.url });
}
