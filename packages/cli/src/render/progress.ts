import type { RunEvent, StepResult } from '@flexnode/core';
import { colorEnabled, liveTerminal } from './color.js';
import { writeOut } from './stdio.js';

const paint = (code: number, text: string) => (colorEnabled() ? `\u001b[${code}m${text}\u001b[0m` : text);

const marks: Record<StepResult['outcome'], [number, string]> = {
  unchanged: [32, '✓'],
  installed: [32, '✓'],
  healthy: [32, '✓'],
  removed: [32, '✓'],
  planned: [33, '•'],
  skipped: [90, '-'],
  failed: [31, '✗'],
  unhealthy: [31, '✗'],
};
const mark = (outcome: StepResult['outcome']) => paint(...marks[outcome]);

const seconds = (ms: number) => (ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`);
const indent = (text: string, by = '    ') => text.replace(/^/gm, by);

/**
 * One line per finished step, in the order the steps started: status checks run concurrently and finish in any
 * order, and a report whose lines move between runs is hard to read or compare. A line waits only for steps that
 * started before it and are still running. On a terminal that can redraw (not TERM=dumb), the step in progress is
 * shown on a line that is replaced. A failure names its phase and plugin, then the message, the hint and (with
 * --verbose, which puts it in the result) the stack.
 */
export function progressPrinter(write: (line: string) => void = (l) => writeOut(1, l)) {
  const live = liveTerminal();
  let pending = false;
  const clear = () => {
    if (pending && live) write('\r\u001b[2K');
    pending = false;
  };
  // Steps started and not printed yet, in start order; the results of those that ended.
  const running: string[] = [];
  const ended = new Map<string, StepResult>();
  return (event: RunEvent) => {
    if (event.type === 'step-start') {
      if (!running.includes(event.id)) running.push(event.id);
      if (!live) return;
      clear();
      write(`${paint(36, '…')} ${event.id}: ${event.phase}`);
      pending = true;
      return;
    }
    clear();
    if (!running.includes(event.result.id)) return printResult(write, event.result);
    ended.set(event.result.id, event.result);
    while (running.length > 0 && ended.has(running[0]!)) {
      printResult(write, ended.get(running[0]!)!);
      ended.delete(running.shift()!);
    }
  };
}

function printResult(write: (line: string) => void, r: StepResult): void {
  const why = r.check && r.check.status !== 'ok' && r.outcome !== 'installed' && r.outcome !== 'failed' ? ` (${r.check.status}: ${r.check.reason})` : '';
  const where = r.error?.phase ? ` in ${r.error.phase} [${r.plugin}]` : '';
  write(`${mark(r.outcome)} ${r.id.padEnd(28)} ${r.outcome}${where}${why}  ${paint(90, seconds(r.durationMs))}\n`);
  if (r.error) {
    write(`${indent(paint(31, r.error.message))}\n`);
    if (r.error.hint) write(`    hint: ${r.error.hint}\n`);
    // The stack's first line repeats the message shown just above.
    const stack = r.error.stack?.split('\n');
    if (stack) write(`${indent(paint(90, (stack[0]!.endsWith(r.error.message.split('\n')[0]!) ? stack.slice(1) : stack).join('\n')), '  ')}\n`);
  }
  for (const note of r.notes ?? []) write(`    note: ${note}\n`);
  for (const change of r.changes ?? []) {
    write(`    ${change.action} ${change.target}${change.detail ? ` ${paint(90, change.detail)}` : ''}\n`);
  }
}
