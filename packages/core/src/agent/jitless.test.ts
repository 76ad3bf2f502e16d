import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const module = fileURLToPath(new URL('./jitless.js', import.meta.url));
const probe = (guard: boolean) =>
  `${guard ? `(await import(${JSON.stringify(module)})).withoutUndiciGlobals();` : ''}` +
  // What the Azure SDK's formDataPolicy does on every request, then a direct use.
  "console.log(typeof FormData); try { await fetch('http://127.0.0.1:9'); } catch (e) { console.log('caught', e.constructor.name); } setTimeout(() => console.log('alive'), 50);";

describe('agent under --jitless: undici-backed globals', () => {
  it('without the guard, merely touching them ends a --jitless process (why the guard exists)', () => {
    const r = spawnSync(process.execPath, ['--jitless', '--input-type=module', '-e', probe(false)], { encoding: 'utf8' });
    expect(r.status).to.not.equal(0);
    expect(r.stderr).to.match(/WebAssembly is not defined/);
    expect(r.stdout).to.not.contain('alive');
  });

  it('with the guard they are absent: feature tests see undefined, a call is a catchable TypeError, the process lives', () => {
    const out = execFileSync(process.execPath, ['--jitless', '--input-type=module', '-e', probe(true)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(out.trim().split('\n')).to.deep.equal(['undefined', 'caught TypeError', 'alive']);
  });

  it('with a JIT it changes nothing', async () => {
    const { withoutUndiciGlobals } = await import('./jitless.js');
    expect(withoutUndiciGlobals()).to.deep.equal([]);
    expect(typeof globalThis.FormData).to.equal('function');
  });
});
