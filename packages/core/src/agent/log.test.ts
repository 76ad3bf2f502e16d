import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { REDACTED, Redactor } from '../logging/index.js';
import { createAgentLogger } from './log.js';

describe('agent logger: stderr lines', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'flexnode-agent-log-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const logger = (json: boolean, priorities: boolean, lines: string[]) => {
    const redactor = new Redactor();
    redactor.add('s3cr3t-value');
    return createAgentLogger({ logDir: dir, level: 'info', redactor, human: { write: (l) => lines.push(l) }, priorities, json });
  };

  it('--json: one JSON object per line with level, time, msg and the fields (the step id of a child), redacted', () => {
    const lines: string[] = [];
    const log = logger(true, false, lines).child({ step: 'kube.kubelet' });
    log.warn('drift: token s3cr3t-value rejected', { attempt: 2, detail: 'has s3cr3t-value inside' });
    log.debug('below the level');
    expect(lines).to.have.length(1);
    expect(lines[0]!.endsWith('\n')).to.equal(true);
    const record = JSON.parse(lines[0]!);
    expect(record).to.include({ level: 'warn', step: 'kube.kubelet', attempt: 2 });
    expect(record.msg).to.equal(`drift: token ${REDACTED} rejected`);
    expect(record.detail).to.equal(`has ${REDACTED} inside`);
    expect(lines[0]).to.not.include('s3cr3t-value');
    expect(Number.isNaN(Date.parse(record.time))).to.equal(false);
  });

  it('--json under the journal keeps the sd-daemon priority prefix before the object', () => {
    const lines: string[] = [];
    logger(true, true, lines).error('failed');
    expect(lines[0]).to.match(/^<3>\{/);
    expect(JSON.parse(lines[0]!.slice(3))).to.include({ level: 'error', msg: 'failed' });
  });

  it('without --json: the human line', () => {
    const lines: string[] = [];
    logger(false, false, lines).info('cycle done', { drifted: 0 });
    expect(lines).to.deep.equal(['info: cycle done drifted=0\n']);
  });
});
