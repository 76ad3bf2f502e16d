import { lstatSync, readdirSync, readFileSync, statSync, type BigIntStats, type Stats } from 'node:fs';

/**
 * The Host's reads of small local files and metadata, done synchronously on purpose. A check reads a few
 * hundred of them, and fs.promises pays a threadpool round trip per system call: readFile is open, fstat, read,
 * read, close, five hand-offs between the main thread and libuv's threads, which on a two-core machine compete
 * with the main thread itself. The same read done synchronously is four system calls of microseconds each.
 * Reads that can be large (archives, binaries being hashed) stream as before. A missing path (ENOENT, ENOTDIR)
 * is undefined; any other error is thrown.
 */
const missing = (error: unknown): undefined => {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
  throw error;
};

function orMissing<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    return missing(error);
  }
}

export function readBytesNow(path: string): Buffer | undefined {
  return orMissing(() => readFileSync(path));
}

export function readTextNow(path: string, encoding: BufferEncoding = 'utf8'): string | undefined {
  return orMissing(() => readFileSync(path, encoding));
}

/** lstat without an Error built for the common "nothing there" (throwIfNoEntry covers ENOENT only). */
export function lstatNow(path: string): Stats | undefined {
  return orMissing(() => lstatSync(path, { throwIfNoEntry: false }));
}

export function statBigNow(path: string): BigIntStats | undefined {
  return orMissing(() => statSync(path, { bigint: true, throwIfNoEntry: false }));
}

/** stat (following links), undefined when nothing is there. */
export function statNow(path: string): Stats | undefined {
  return orMissing(() => statSync(path, { throwIfNoEntry: false }));
}

/** `read()`, or undefined on any error: for readers where anything unreadable means "not known". */
export function quietly<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

export function listNow(path: string): string[] | undefined {
  return orMissing(() => readdirSync(path));
}
