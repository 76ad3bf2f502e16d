import { expect } from 'chai';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO } from './test/run-cli.js';

/** Every .js file under `dir`, chunks left out (they load with the files that import them). */
const files = (dir: string): string[] =>
  existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? (e.name === 'chunks' ? [] : files(join(dir, e.name))) : e.name.endsWith('.js') ? [join(dir, e.name)] : [],
      )
    : [];

// scripts/bundle-package.mjs rewrites how bundled code reaches Node's built-ins and the vendored packages (the
// Azure SDK, yaml, tar): a bundle that cannot even be evaluated would show only where a step first needs it.
describe('bundles (lib/): every entry and vendored package evaluates', function () {
  this.timeout(120_000);
  const packages = ['cli', 'plugin-arc', 'plugin-cni', 'plugin-containerd', 'plugin-kube'];
  for (const name of packages) {
    it(`@flexnode/${name}`, async () => {
      const lib = join(REPO, 'packages', name, 'lib');
      const entries = files(lib).filter((f) => !f.endsWith('/oclif.js'));
      expect(entries.length, lib).to.be.greaterThan(0);
      for (const file of entries) {
        const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
        expect(Object.keys(module).length, file).to.be.greaterThan(0);
      }
    });
  }
});
