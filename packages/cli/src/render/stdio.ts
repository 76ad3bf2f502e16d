/**
 * Write to stdout or stderr without process.stdout/stderr: their first use builds a stream (net and stream
 * internals for a pipe, tty for a terminal), ~4 ms of a short command such as `flexnode steps`. Writes are
 * synchronous, as Node's own are for files, pipes and terminals on Linux, so lines keep their order with anything
 * written through the streams. A descriptor left non-blocking by whoever opened it (EAGAIN) gets the rest through
 * the stream, which waits for it.
 */
export function writeOut(fd: 1 | 2, text: string): void {
  if (closed.has(fd)) return;
  const { writeSync } = process.getBuiltinModule('node:fs');
  let rest = Buffer.from(text, 'utf8');
  while (rest.length > 0) {
    try {
      rest = rest.subarray(writeSync(fd, rest));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // The reader went away (`flexnode steps | head`): the rest is dropped, as Node's console drops it.
      if (code === 'EPIPE') return void closed.add(fd);
      if (code !== 'EAGAIN') throw error;
      (fd === 1 ? process.stdout : process.stderr).write(rest);
      return;
    }
  }
}

const closed = new Set<number>();

/**
 * Whether descriptor `fd` is a terminal, without building process.stdout (see {@link writeOut}). A terminal is a
 * character device, so a pipe or a file (a script, a unit's journal, the bench) is answered by one fstat, without
 * loading node:tty (which loads net: ~3 ms).
 */
export function isTerminal(fd: 1 | 2): boolean {
  try {
    if (!process.getBuiltinModule('node:fs').fstatSync(fd).isCharacterDevice()) return false;
  } catch {
    return false;
  }
  return process.getBuiltinModule('node:tty').isatty(fd);
}
