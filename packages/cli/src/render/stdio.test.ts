import { expect } from 'chai';
import { spawn } from 'node:child_process';

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
