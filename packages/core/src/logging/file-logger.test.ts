import { expect } from 'chai';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { consoleLogger, createFileLogger } from './file-logger.js';
import { REDACTED, Redactor } from './redactor.js';

describe('logging', () => {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'flexnode-log-'))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('writes JSON lines to logDir with every known secret redacted, in messages, fields and children', async () => {
    const secret = 'Zk8~q.s3cr3t-client-value';
    const redactor = new Redactor();
    redactor.add(secret);
    const log = createFileLogger({ logDir: join(dir, 'logs'), level: 'debug', redactor });
    log.info(`connecting with --secret ${secret}`, { argv: ['azcmagent', secret], nested: { token: `Bearer ${secret}` } });
    log.child({ step: 'arc.connect', header: secret }).error('failed', { error: new Error(`401 for ${secret}`) });
    log.debug('debug line');
    log.flush();
    const text = await readFile(join(dir, 'logs/flexnode.log'), 'utf8');
    expect(text).to.not.contain(secret);
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).to.have.length(3);
    expect(lines[0].msg).to.equal(`connecting with --secret ${REDACTED}`);
    expect(lines[0].argv).to.deep.equal(['azcmagent', REDACTED]);
    expect(lines[1].step).to.equal('arc.connect');
    // 0640: readable by the adm-style group, never by others.
    expect((await stat(join(dir, 'logs/flexnode.log'))).mode & 0o777).to.equal(0o640);
  });

  it('honours the log level', async () => {
    const log = createFileLogger({ logDir: dir, level: 'warning', redactor: new Redactor() });
    log.info('hidden');
    log.warn('shown');
    log.flush();
    const text = await readFile(join(dir, 'flexnode.log'), 'utf8');
    expect(text).to.contain('shown').and.not.contain('hidden');
  });

  it('ignores secrets too short to redact safely', () => {
    const r = new Redactor();
    r.add('abc');
    expect(r.redact('abc def')).to.equal('abc def');
  });

  it('--verbose: a console logger gets every line (debug too, below the file level) with the step id, redacted', async () => {
    const secret = 'hunter2-value';
    const redactor = new Redactor();
    redactor.add(secret);
    const lines: string[] = [];
    const console = consoleLogger((line) => lines.push(line), redactor);
    const log = createFileLogger({ logDir: join(dir, 'logs'), level: 'warn', redactor, also: console });
    const step = log.child({ step: 'crun.config', plugin: '@org/plugin-crun' });
    step.debug(`reading with ${secret}`, { path: '/etc/x' });
    step.error('failed in check', { error: { code: 'STEP_THREW' }, stack: 'SyntaxError: x\n    at y' });
    log.flush();
    expect(lines).to.deep.equal([`[crun.config] debug: reading with ${REDACTED} {"path":"/etc/x"}\n`, '[crun.config] error: failed in check\n']);
    const file = (await readFile(join(dir, 'logs/flexnode.log'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(file).to.have.length(1);
    expect(file[0]).to.deep.include({ step: 'crun.config', plugin: '@org/plugin-crun', msg: 'failed in check', stack: 'SyntaxError: x\n    at y' });
  });
});
