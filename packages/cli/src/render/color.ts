import { isTerminal } from './stdio.js';

/**
 * Whether output may carry colours and cursor movement. Off for a pipe or a file, with NO_COLOR (any non-empty value,
 * no-color.org), with `--no-color`, and on a terminal that says it cannot (TERM=dumb).
 */
export function colorEnabled(stream: { isTTY?: boolean } = { isTTY: isTerminal(1) }, env: NodeJS.ProcessEnv = process.env): boolean {
  return liveTerminal(stream, env) && !env['NO_COLOR'];
}

/** A terminal that can redraw a line in place (the step in progress): a TTY that is not TERM=dumb. */
export function liveTerminal(stream: { isTTY?: boolean } = { isTTY: isTerminal(1) }, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && env['TERM'] !== 'dumb';
}

/** The arguments without `--no-color` (before a `--`); when it was there, NO_COLOR is set in `env`. */
export function withoutColorFlag(args: readonly string[], env: NodeJS.ProcessEnv): string[] {
  const end = args.indexOf('--') === -1 ? args.length : args.indexOf('--');
  const kept = args.filter((a, i) => i >= end || a !== '--no-color');
  if (kept.length !== args.length) env['NO_COLOR'] = '1';
  return kept;
}
