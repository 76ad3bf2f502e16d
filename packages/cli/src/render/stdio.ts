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
 * loading node:tty (which loads net: ~3 ms); so is /dev/null (`flexnode status >/dev/null` in a script).
 */
export function isTerminal(fd: 1 | 2): boolean {
  try {
    const st = process.getBuiltinModule('node:fs').fstatSync(fd);
    if (!st.isCharacterDevice() || isMemoryDevice(st.rdev)) return false;
  } catch {
    return false;
  }
  return process.getBuiltinModule('node:tty').isatty(fd);
}

/**
 * Linux's memory devices (major 1: /dev/null, /dev/zero, /dev/full, /dev/random...) are never terminals. The major
 * number of a Linux dev_t: bits 8-19, and bits 44 and up for majors past 4095 (glibc's gnu_dev_major).
 */
function isMemoryDevice(rdev: number): boolean {
  const major = ((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
  return process.platform === 'linux' && major === 1;
}
