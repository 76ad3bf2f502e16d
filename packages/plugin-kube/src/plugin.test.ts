import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadStep } from '@flexnode/sdk';
import { createStep, MemoryHost, testConfig } from '@flexnode/sdk/testing';
import { azureServices } from './fixtures.test.helpers.js';
import plugin from './plugin.js';

const dist = dirname(fileURLToPath(import.meta.url));

/** Our modules the compiled module `file` imports statically, and theirs, recursively (dynamic import() is not followed). */
function staticClosure(file: string, seen = new Set<string>()): Set<string> {
  seen.add(file);
  const text = readFileSync(join(dist, file), 'utf8');
  for (const [, spec] of text.matchAll(/^(?:import|export)\s[^;]*?\bfrom\s+'(\.{1,2}\/[^']+)'/gms)) {
    const target = normalize(join(dirname(file), spec!));
    if (!seen.has(target)) staticClosure(target, seen);
  }
  return seen;
}

describe("plugin-kube's entry (every command that reads steps imports it)", () => {
  it('imports the definitions and the small pure modules they need, never what the steps do', () => {
    const modules = [...staticClosure('plugin.js')].map((f) => relative('.', f)).sort();
    expect(modules).to.deep.equal(['auth.js', 'network/service-proxy.js', 'plugin.js', 'preflight/check-names.js', 'services.js', 'settings.js', 'steps.js']);
  });

  it("a bad setting met while a step's operations are created fails the load core awaits before a run", async () => {
    const bad = testConfig({ pluginConfig: { '@flexnode/plugin-kube': { readyTimeoutSeconds: 'soon' } } });
    const kubelet = plugin.steps.find((s) => s.id === 'kube.kubelet')!;
    const step = createStep(kubelet, new MemoryHost(), { config: bad, services: azureServices() });
    const error = await loadStep(step).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(Error);
    expect(error).to.have.property('code', 'CONFIG_INVALID');
    expect((error as Error).message).to.match(/readyTimeoutSeconds must be an integer between 0 and 3600/);
  });
});
