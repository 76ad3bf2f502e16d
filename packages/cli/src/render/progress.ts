import type { RunEvent, StepResult } from '@flexnode/core';

const useColor = () => process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: number, text: string) => (useColor() ? `\u001b[${code}m${text}\u001b[0m` : text);

const mark: Record<StepResult['outcome'], string> = {
  unchanged: paint(32, '✓'),
  installed: paint(32, '✓'),
  healthy: paint(32, '✓'),
  removed: paint(32, '✓'),
  planned: paint(33, '•'),
  skipped: paint(90, '-'),
  failed: paint(31, '✗'),
  unhealthy: paint(31, '✗'),
};

const seconds = (ms: number) => (ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`);

/** One line per finished step; on a terminal, the step in progress is shown on a line that is replaced. */
export function progressPrinter(write: (line: string) => void = (l) => process.stdout.write(l)) {
  let pending = false;
  const clear = () => {
    if (pending && process.stdout.isTTY) write('\r\u001b[2K');
    pending = false;
  };
  return (event: RunEvent) => {
    if (event.type === 'step-start') {
      if (!process.stdout.isTTY) return;
      clear();
      write(`${paint(36, '…')} ${event.id}: ${event.phase}`);
      pending = true;
      return;
    }
    clear();
    const r = event.result;
    const why = r.check && r.check.status !== 'ok' && r.outcome !== 'installed' ? ` (${r.check.status}: ${r.check.reason})` : '';
    write(`${mark[r.outcome]} ${r.id.padEnd(28)} ${r.outcome}${why}  ${paint(90, seconds(r.durationMs))}\n`);
    if (r.error) {
      write(`    ${paint(31, r.error.message)}\n`);
      if (r.error.hint) write(`    hint: ${r.error.hint}\n`);
    }
    for (const change of r.changes ?? []) {
      write(`    ${change.action} ${change.target}${change.detail ? ` ${paint(90, change.detail)}` : ''}\n`);
    }
  };
}
