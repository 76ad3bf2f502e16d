import { expect } from 'chai';
import { checkParsedFile, checkService } from './check-helpers.js';
import { replaceRecord } from './helpers.js';
import { MemoryHost } from './testing/index.js';

const parseJson = (text: string) => JSON.parse(text) as unknown;

describe('sdk check helpers', () => {
  it('checkParsedFile: missing, unparsable, the first differing key, and ok whatever the formatting', async () => {
    const machine = new MemoryHost();
    const host = machine.forStep('x.config');
    const expected = { a: 1, b: { c: ['x'] } };
    expect(await checkParsedFile(host, '/etc/x.json', expected, parseJson, 'JSON')).to.deep.equal({ status: 'missing', reason: '/etc/x.json is absent' });
    machine.seedFile('/etc/x.json', '{"a": 1,');
    const broken = await checkParsedFile(host, '/etc/x.json', expected, parseJson, 'JSON');
    expect(broken.status === 'drifted' && broken.reason).to.match(/^\/etc\/x\.json is not valid JSON: /);
    machine.seedFile('/etc/x.json', '{"b": {"c": ["y"]}, "a": 1}');
    expect(await checkParsedFile(host, '/etc/x.json', expected, parseJson, 'JSON')).to.deep.equal({
      status: 'drifted',
      reason: '/etc/x.json: b.c[0] is "y", expected "x"',
    });
    machine.seedFile('/etc/x.json', '{\n  "b": {"c": ["x"]},\n  "a": 1\n}\n');
    expect(await checkParsedFile(host, '/etc/x.json', expected, parseJson, 'JSON')).to.deep.equal({ status: 'ok' });
  });

  it('checkService: not enabled, not active, started with other inputs; ok only enabled without a service manager', async () => {
    const machine = new MemoryHost();
    const host = machine.forStep('x.service');
    expect(await checkService(host, 'x.service', { config: 'a' }, 'x-started')).to.deep.equal({ status: 'missing', reason: 'x.service is not enabled' });
    await host.systemd.enable('x.service');
    expect(await checkService(host, 'x.service', { config: 'a' }, 'x-started')).to.deep.equal({ status: 'drifted', reason: 'x.service is not active' });
    await host.systemd.start('x.service');
    expect((await checkService(host, 'x.service', { config: 'a' }, 'x-started'))?.status).to.equal('drifted');
    await replaceRecord(host, 'x-started', { config: 'a' });
    expect(await checkService(host, 'x.service', { config: 'a' }, 'x-started')).to.equal(undefined);
    const changed = await checkService(host, 'x.service', { config: 'b' }, 'x-started');
    expect(changed?.status === 'drifted' && changed.reason).to.contain('needs a restart');
    const sandbox = new MemoryHost({ systemd: false });
    await sandbox.forStep('x.service').systemd.enable('x.service');
    expect((await checkService(sandbox.forStep('x.service'), 'x.service', {}, 'x-started'))?.status).to.equal('ok');
  });
});
