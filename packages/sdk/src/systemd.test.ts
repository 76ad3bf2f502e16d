// The systemd renderer against systemd itself: what it writes passes `systemd-analyze verify` (a unit that fails
// verification fails the test), hostile values stay one word of one line, and what systemd cannot carry is refused.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { execStartOf } from './testing/unit-words.js';
import { renderEnvironmentFile, renderUnitFile, unitCommandLine, unitEnvironment, unitPlainValue, unitWord } from './systemd.js';

const run = promisify(execFile);

/** Every character a config value may legitimately hold that means something to systemd or a shell. */
const HOSTILE = [
  `a b`,
  `"q"`,
  `'s'`,
  `back\\slash`,
  `trail\\`,
  `%n%i%%`,
  `$HOME`,
  `\${X}`,
  `;`,
  `a;b`,
  `#c`,
  `-x`,
  `@y`,
  ``,
  ` lead`,
  `x=y`,
  `ümlaut`,
  `tab\tin`,
  `nl\nin`,
];

describe('SDK systemd renderer', () => {
  it('quotes a word only when needed, escaping \\, ", control characters, % and (in commands) $', () => {
    expect(unitWord('--v=2')).to.equal('--v=2');
    expect(unitWord('a b')).to.equal('"a b"');
    expect(unitWord('%h')).to.equal('%%h');
    expect(unitWord('$X')).to.equal('"$$X"');
    expect(unitWord('$X', 'environment')).to.equal('"$X"');
    expect(unitWord('a"b\\c')).to.equal('"a\\"b\\\\c"');
    expect(unitWord('l1\nExecStartPre=/x')).to.equal('"l1\\x0aExecStartPre=/x"');
    expect(unitWord('')).to.equal('""');
    expect(() => unitWord('a\0b')).to.throw(/NUL/);
  });

  it('every hostile value is one argument, read back exactly', () => {
    const line = unitCommandLine({ command: ['/usr/bin/x', ...HOSTILE] });
    expect(line).to.not.include('\n');
    expect(execStartOf(`ExecStart=${line}`)).to.deep.equal(['/usr/bin/x', ...HOSTILE]);
  });

  it('refuses what systemd cannot read back: a relative executable, newlines or edge whitespace in plain values, bad names', () => {
    expect(() => unitCommandLine({ command: ['kubelet'] })).to.throw(/absolute/);
    expect(() => unitPlainValue('a\nExecStartPre=/x')).to.throw(/control character/);
    expect(() => unitPlainValue(' x')).to.throw(/whitespace/);
    expect(() => unitPlainValue('x\\')).to.throw(/backslash/);
    expect(unitPlainValue('50%')).to.equal('50%%');
    expect(() => unitEnvironment({ 'BAD NAME': 'x' })).to.throw(/variable name/);
    expect(() => renderUnitFile({ sections: { 'Service]\n[Unit': [] } })).to.throw(/section/);
    expect(() => renderUnitFile({ sections: { Service: [['Exec\nStart', 'x']] } })).to.throw(/setting name/);
    expect(() => renderEnvironmentFile({ A: 'x\ry' })).to.throw(/carriage return/);
  });

  it('an environment file escapes \\ " ` $ inside double quotes', () => {
    expect(renderEnvironmentFile({ HTTPS_PROXY: 'http://u:p"$`\\@proxy:3128' })).to.equal('HTTPS_PROXY="http://u:p\\"\\$\\`\\\\@proxy:3128"\n');
    expect(renderEnvironmentFile({}, 'c1\nc2')).to.equal('# c1\n# c2\n');
  });

  describe('under systemd-analyze verify', function () {
    this.timeout(60_000);
    let dir: string;
    before(async function () {
      const found = await run('systemd-analyze', ['--version']).then(
        () => true,
        () => false,
      );
      if (!found) {
        // This machine kind must have it (apt-get install systemd): a missing tool fails rather than skips.
        throw new Error('systemd-analyze is not installed (apt-get install -y systemd)');
      }
      dir = await mkdtemp(join(tmpdir(), 'flexnode-sdk-unit-'));
    });
    after(async () => dir && rm(dir, { recursive: true, force: true }));

    const verify = async (name: string, text: string, extra: Record<string, string> = {}) => {
      for (const [file, content] of Object.entries(extra)) await writeFile(join(dir, file), content);
      await writeFile(join(dir, name), text);
      return run('systemd-analyze', ['verify', '--man=no', join(dir, name)]).then(
        (r) => ({ code: 0, out: `${r.stdout}${r.stderr}` }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: `${e.stdout}${e.stderr}` }),
      );
    };

    it('a unit carrying every hostile value in ExecStart= and Environment=, with an EnvironmentFile=, verifies clean', async () => {
      const env = Object.fromEntries(HOSTILE.map((v, i) => [`V${i}`, v]));
      const unit = renderUnitFile({
        comment: 'test unit\nsecond line',
        sections: {
          Unit: [['Description', 'flexnode renderer test 100%']],
          Service: [
            ['Type', 'oneshot'],
            ['EnvironmentFile', join(dir, 'hostile.env')],
            ['Environment', { environment: env }],
            ['ExecStartPre', { command: ['/bin/true'], ignoreFailure: true }],
            ['ExecStart', { command: ['/bin/echo', ...HOSTILE] }],
          ],
          Install: [['WantedBy', 'multi-user.target']],
        },
      });
      const r = await verify('flexnode-hostile.service', unit, { 'hostile.env': renderEnvironmentFile(env) });
      expect(r, unit).to.deep.equal({ code: 0, out: '' });
    });

    it('(control) verify fails on what an unescaped newline injects', async () => {
      const injected = `[Service]\nType=oneshot\nExecStart=/bin/echo a\nExecStartPre=/nonexistent/flexnode-injected\n`;
      const r = await verify('flexnode-injected.service', injected);
      expect(r.code).to.not.equal(0);
      expect(r.out).to.include('flexnode-injected');
    });
  });
});
