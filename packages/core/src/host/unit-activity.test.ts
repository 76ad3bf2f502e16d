import { expect } from 'chai';
import { batchedUnitStates } from './unit-activity.js';

describe('host/unit-activity', () => {
  const fake = (states: Record<string, string>) => {
    const calls: string[][] = [];
    const query = async (units: string[]) => {
      calls.push(units);
      return { stdout: units.map((u) => states[u] ?? 'inactive').join('\n') + '\n' };
    };
    return { calls, query };
  };

  it('asks once for the units queried together, each unit once, and answers each with its own line', async () => {
    const { calls, query } = fake({ 'a.service': 'active', 'b.service': 'failed', 'c.service': 'activating' });
    const state = batchedUnitStates(query);
    const answers = await Promise.all(['a.service', 'b.service', 'a.service', 'c.service', 'd.service'].map(state));
    expect(answers).to.deep.equal(['active', 'failed', 'active', 'activating', 'inactive']);
    expect(calls).to.deep.equal([['a.service', 'b.service', 'c.service', 'd.service']]);
  });

  it('a query made after its batch was sent is asked again, never answered from the older batch', async () => {
    const states: Record<string, string> = { 'k.service': 'inactive' };
    const { calls, query } = fake(states);
    const state = batchedUnitStates(query);
    const first = state('k.service');
    await new Promise((r) => setImmediate(r)); // the first batch has gone out
    states['k.service'] = 'active'; // started in between
    expect(await state('k.service')).to.equal('active');
    expect(await first).to.equal('inactive');
    expect(calls).to.have.length(2);
  });

  it('missing lines read as unknown (""), and a failed query fails every caller of its batch', async () => {
    const short = batchedUnitStates(async () => ({ stdout: 'active\n' }));
    expect(await Promise.all([short('x.service'), short('y.service')])).to.deep.equal(['active', '']);
    const broken = batchedUnitStates(async () => {
      throw new Error('no bus');
    });
    const results = await Promise.allSettled([broken('x.service'), broken('y.service')]);
    expect(results.map((r) => r.status)).to.deep.equal(['rejected', 'rejected']);
  });
});
