// The README's demo command (`npm run demo` → scripts/demo.mjs) runs to its end: a newcomer's first command.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'chai';
import { skipUnlessMachineSupported } from '../machine/probe.js';
import { repoRoot } from '../mirror/paths.js';

describe("README's demo (scripts/demo.mjs, node in a box)", function () {
  this.timeout(600_000);
  before(async function () {
    await skipUnlessMachineSupported(this);
  });

  it('bootstraps the node to Ready, reports status without the operator credential, and leaves the machine as it was', async () => {
    const { code, out } = await new Promise<{ code: number; out: string }>((resolve) => {
      execFile(process.execPath, [join(repoRoot(), 'scripts/demo.mjs')], { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, out: `${stdout}\n${stderr}` }),
      );
    });
    expect(code, out).to.equal(0);
    expect(out).to.match(/demo-node {2}Ready {2}podCIDR 10\.244\.\d+\.0\/24/);
    expect(out).to.include('the operator credential removed');
    expect(out).to.match(/bootstrap: done; 0 step\(s\) changed the machine/);
    expect(out).to.include('the Node in the cluster: gone');
    expect(out).to.include('paths changed on the machine since before bootstrap (logs aside): 0');
    expect(out).to.not.include('e2e~Full.cycle-s3cret'); // the operator's secret is never printed
  });
});
