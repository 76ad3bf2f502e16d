import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal } from '../state/journal.js';
import { undoPlan } from './undo-plan.js';

describe('what unbootstrap would undo (unbootstrap --dry-run)', () => {
  it('lists the journaled steps newest first, each change as its uninstall reverts it, newest first', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'flexnode-undo-'));
    try {
      const journal = await Journal.open(dir);
      await journal.setStatus('runc.binary', 'installed', { plugin: '@flexnode/plugin-containerd' });
      await journal.append('runc.binary', { kind: 'file', path: '/usr/bin/runc', before: { exists: false } });
      await journal.setStatus('arc.connect', 'installed', { plugin: '@flexnode/plugin-arc' });
      await journal.append('arc.connect', {
        kind: 'custom',
        type: 'arc.connected',
        data: { resourceId: '/subscriptions/s/resourceGroups/r/providers/Microsoft.HybridCompute/machines/edge-1', secret: 'never shown' },
      });
      await journal.append('arc.connect', { kind: 'unit-enabled', unit: 'himdsd.service', wasEnabled: false });
      const plan = undoPlan(journal);
      expect(plan.map((s) => s.id)).to.deep.equal(['arc.connect', 'runc.binary']);
      expect(plan[0]!.undo).to.deep.equal([
        { action: 'disable', target: 'himdsd.service' },
        {
          action: 'undo (by the step)',
          target: 'arc.connected',
          detail: '/subscriptions/s/resourceGroups/r/providers/Microsoft.HybridCompute/machines/edge-1',
        },
      ]);
      expect(plan[1]!.undo).to.deep.equal([{ action: 'remove', target: '/usr/bin/runc' }]);
      expect(JSON.stringify(plan)).not.to.include('never shown');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
