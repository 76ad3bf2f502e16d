// `flexnode agent install-service` with hostile flags: what reaches the unit is escaped (systemd-analyze verify
// reads it clean), what cannot be escaped or escapes --root is refused with exit 2 before anything is written.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runCli } from '../../test/run-cli.js';

const run = promisify(execFile);

describe('flexnode agent install-service: escaping and refusals', function () {
  this.timeout(120_000);
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'flexnode-install-service-'))));
  afterEach(() => rm(dir, { recursive: true, force: true }));
  const unitPath = () => join(dir, 'etc/systemd/system/flexnode-agent.service');

  it('a config path with spaces, quotes, % and $ is one Environment= word that systemd-analyze verify accepts', async () => {
    const config = `/etc/a b/"c" 100%h $HOME\\x.json`;
    const r = await runCli(['agent', 'install-service', '--root', dir, '--config', config, '--bin', process.execPath]);
    expect(r.code, r.stderr).to.equal(0);
    const unit = await readFile(unitPath(), 'utf8');
    expect(unit).to.include(`Environment="FLEXNODE_CONFIG=/etc/a b/\\"c\\" 100%%h $HOME\\\\x.json"\n`);
    expect(unit.split('\n').filter((l) => l.startsWith('ExecStart'))).to.deep.equal([`ExecStart=${process.execPath} agent`]);
    const verify = await run('systemd-analyze', ['verify', '--man=no', unitPath()]).then(
      (v) => ({ code: 0, out: `${v.stdout}${v.stderr}` }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: `${e.stdout}${e.stderr}` }),
    );
    expect(verify.code, verify.out).to.equal(0);
    expect(verify.out).to.not.match(/flexnode-agent\.service:/);
  });

  it('refuses, exit 2 and nothing written: a newline in --config, ".." in --unit-dir, a relative --bin, an empty --root or FLEXNODE_ROOT', async () => {
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['--root', dir, '--config', '/etc/a b.json\nExecStartPre=/x'], {}, /--config: .*control character/],
      [['--root', dir, '--unit-dir', '/etc/../../../tmp'], {}, /--unit-dir: .*"\.\."/],
      [['--root', dir, '--bin', 'flexnode'], {}, /--bin: .*absolute/],
      [['--root', ''], {}, /empty/],
      [[], { FLEXNODE_ROOT: '' }, /empty/],
    ];
    for (const [args, env, message] of cases) {
      const r = await runCli(['agent', 'install-service', ...args], { env });
      expect(r.code, `${JSON.stringify(args)} ${JSON.stringify(env)}: ${r.stderr}`).to.equal(2);
      expect(r.stderr).to.match(message);
      expect(existsSync(unitPath()), JSON.stringify(args)).to.equal(false);
    }
    expect(existsSync('/tmp/flexnode-agent.service')).to.equal(false);
  });
});
