// Node in a box (real systemd): what the SDK's renderer writes into a unit and an environment file reaches the
// process exactly. A oneshot unit carries hostile values (quotes, backslashes, %, $, ;, spaces, a leading dash,
// tabs, newlines, ESC, non-ASCII) as ExecStart= arguments, Environment= assignments and EnvironmentFile= lines;
// systemd starts it, and the process writes back the argv and environment it got. This is the read-back half of
// issue 17's property test: systemd-analyze verify proves the syntax, this proves the meaning.
import { expect } from 'chai';
import { renderEnvironmentFile, renderUnitFile } from '@flexnode/sdk';
import { startMachine, type Machine } from '../machine/machine.js';
import { skipUnlessMachineSupported } from '../machine/probe.js';

const HOSTILE = [
  'a b',
  '"q"',
  "'s'",
  'back\\slash',
  'trail\\',
  '%n%i%%',
  '$HOME',
  '${X}',
  '$$',
  ';',
  'a;b',
  '#c',
  '-x',
  '--y=1',
  '@z',
  '',
  ' lead',
  'trail ',
  'x=y',
  'ümlaut ✓',
  'tab\tin',
  'nl\nin',
  'esc\u001b[31m',
  'ExecStartPre=/bin/false',
  '[Service]',
];
const OUT = '/var/tmp/flexnode-readback.json';
const SCRIPT = `require("fs").writeFileSync(${JSON.stringify(OUT)}, JSON.stringify({ argv: process.argv.slice(1), env: process.env }))`;

describe('systemd reads back exactly what the SDK renderer writes (node in a box)', function () {
  this.timeout(180_000);
  let m: Machine | undefined;

  before(async function () {
    this.timeout(900_000);
    await skipUnlessMachineSupported(this);
    m = await startMachine({ name: 'readback' });
  });
  after(async () => m?.stop());

  it('ExecStart= arguments, Environment= and EnvironmentFile= values arrive unchanged', async () => {
    const env = Object.fromEntries(HOSTILE.map((v, i) => [`V${i}`, v]));
    // An environment file cannot carry a carriage return; everything else here it carries.
    const fileEnv = Object.fromEntries(HOSTILE.map((v, i) => [`E${i}`, v]));
    await m!.writeFile('/etc/flexnode-readback.env', renderEnvironmentFile(fileEnv, 'readback test'), 0o600);
    await m!.writeFile(
      '/etc/systemd/system/flexnode-readback.service',
      renderUnitFile({
        comment: 'issue 17 read-back test',
        sections: {
          Unit: [['Description', 'flexnode renderer read-back 100%']],
          Service: [
            ['Type', 'oneshot'],
            ['EnvironmentFile', '/etc/flexnode-readback.env'],
            ['Environment', { environment: env }],
            ['ExecStart', { command: ['/usr/local/bin/node', '-e', SCRIPT, '--', ...HOSTILE] }],
          ],
        },
      }),
    );
    await m!.execOrThrow(['systemctl', 'daemon-reload']);
    await m!.execOrThrow(['systemctl', 'start', 'flexnode-readback.service'], { unit: 'flexnode-readback.service' });
    const got = JSON.parse(await m!.readFile(OUT)) as { argv: string[]; env: Record<string, string> };
    expect(got.argv).to.deep.equal(HOSTILE);
    for (const [i, v] of HOSTILE.entries()) {
      expect(got.env[`V${i}`], `Environment= V${i}`).to.equal(v);
      expect(got.env[`E${i}`], `EnvironmentFile= E${i}`).to.equal(v);
    }
  });
});
