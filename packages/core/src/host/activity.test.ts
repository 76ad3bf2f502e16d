import { expect } from 'chai';
import { Activity } from './activity.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('host/activity: wall time per kind of Host work', () => {
  it('counts overlapping work of one kind once, and each kind apart', async () => {
    const activity = new Activity();
    await Promise.all([activity.time('download', () => sleep(60)), activity.time('download', () => sleep(60)), activity.time('unpack', () => sleep(20))]);
    await activity.time('download', () => sleep(30));
    await activity.time('download', () => Promise.reject(new Error('failed'))).catch(() => undefined);
    const s = activity.summary();
    expect(s.download!.count).to.equal(4);
    expect(s.download!.ms).to.be.within(85, 150); // 60 (two at once) + 30, not 150
    expect(s.unpack).to.deep.include({ count: 1 });
    expect(s.unpack!.ms).to.be.within(18, 60);
  });
});
