import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const writer = new URL('./stdio.js', import.meta.url).href;

/** A child that writes `lines` numbered lines to stdout (and one to stderr) with writeOut; its exit and output. */
function child(lines: number, readLines?: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = `const { writeOut } = await import(${JSON.stringify(writer)});
    writeOut(2, 'to stderr\\n');
    for (let i = 1; i <= ${lines}; i++) writeOut(1, 'line ' + i + '\\n');
    writeOut(2, 'done\\n');`;
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      // A reader that stops early, as `| head` does: the pipe's read end closes.
      if (readLines !== undefined && stdout.split('\n').length > readLines) p.stdout.destroy();
    });
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('writeOut: output without process.stdout', () => {
  it('writes every line, in order, to each descriptor', async () => {
    const r = await child(2000);
    expect(r.code).to.equal(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).to.have.length(2000);
    expect(lines[0]).to.equal('line 1');
    expect(lines[1999]).to.equal('line 2000');
    expect(r.stderr).to.equal('to stderr\ndone\n');
  });

  it('drops the rest quietly when the reader goes away (`| head`), as Node console does', async () => {
    const r = await child(200_000, 2);
    expect(r.stderr).to.equal('to stderr\ndone\n');
    expect(r.code).to.equal(0);
  });
});

describe('isTerminal: one fstat for a pipe, a file or /dev/null; tty only for a character device that may be a terminal', () => {
  /**
   * What isTerminal(1) answers in a child whose stdout is redirected by the shell (`redirect`) or is a
   * pseudo-terminal (`script`), and whether the child loaded node:tty to answer. The answer comes on stderr, or on
   * the terminal's output (script's stdout) under a pty.
   */
  async function probe(redirect: string | 'pty'): Promise<{ terminal: boolean; tty: boolean }> {
    const script = `const { isTerminal } = await import(${JSON.stringify(writer)});
      const answer = { terminal: isTerminal(1), tty: process.moduleLoadList.includes('NativeModule tty') };
      process.stderr.write('@' + JSON.stringify(answer) + '@');`;
    const node = `'${process.execPath}' --input-type=module -e '${script.replace(/'/g, `'"'"'`)}'`;
    const argv = redirect === 'pty' ? ['script', '-qec', node, '/dev/null'] : ['sh', '-c', `${node} ${redirect}`];
    const out = await new Promise<string>((resolve) => {
      const p = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      p.stdout.on('data', (d: Buffer) => (text += d.toString()));
      p.stderr.on('data', (d: Buffer) => (text += d.toString()));
      p.on('close', () => resolve(text));
    });
    const answer = /@(\{.*?\})@/.exec(out);
    expect(answer, out).to.not.equal(null);
    return JSON.parse(answer![1]!) as { terminal: boolean; tty: boolean };
  }

  it('a pipe and a file are not terminals, and node:tty is not loaded to say so', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'flexnode-stdio-'));
    try {
      expect(await probe('| cat')).to.deep.equal({ terminal: false, tty: false });
      expect(await probe(`> '${join(dir, 'out')}'`)).to.deep.equal({ terminal: false, tty: false });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('/dev/null and /dev/zero (memory devices) are not terminals, without node:tty; a pseudo-terminal is one', async () => {
    expect(await probe('> /dev/null')).to.deep.equal({ terminal: false, tty: false });
    expect(await probe('> /dev/zero')).to.deep.equal({ terminal: false, tty: false });
    expect(await probe('pty')).to.deep.equal({ terminal: true, tty: true });
  });
});
