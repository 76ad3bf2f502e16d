import { constants, promises as fs, type Stats } from 'node:fs';
import { ExitCode, FlexnodeError } from './errors.js';

/** A client secret is tens of characters; a few KiB leaves room for any credential text and no more. */
export const SECRET_FILE_MAX_BYTES = 4096;

export interface SecretFile {
  /** The secret, surrounding whitespace (a trailing newline) removed. */
  secret: string;
  /** Said to the person, never fatal: e.g. the file is readable by other users. */
  warnings: string[];
}

const kindOf = (st: Stats) =>
  st.isDirectory()
    ? 'a directory'
    : st.isFIFO()
      ? 'a named pipe'
      : st.isCharacterDevice() || st.isBlockDevice()
        ? 'a device'
        : st.isSocket()
          ? 'a socket'
          : 'not a regular file';

/**
 * Read a secret file safely (`azure.servicePrincipal.clientSecretFile`, or any plugin's): opened without blocking
 * (`O_NONBLOCK`: a named pipe never hangs the process), checked with `fstat` on the open descriptor (no race with
 * a swapped path) to be a regular file (a symlink to one is fine) of at most {@link SECRET_FILE_MAX_BYTES}, owned
 * by root or the user running flexnode, writable by nobody else; then read with one bounded read. A file others
 * can read is used with a warning. Refusals are exit 2 (bad input) naming `field` and the path, never the content.
 */
export async function readSecretFile(path: string, field: string, maxBytes = SECRET_FILE_MAX_BYTES): Promise<SecretFile> {
  const refuse = (why: string, hint?: string) =>
    new FlexnodeError('SECRET_FILE_INVALID', `${field} ${path} ${why}`, {
      exitCode: ExitCode.Usage,
      hint: hint ?? `write the secret to a regular file (chmod 600, owned by root) and point ${field} at it`,
    });
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw refuse('does not exist');
    if (code === 'EACCES' || code === 'EPERM') throw refuse('is not readable by this user (run as root?)');
    if (code === 'ELOOP') throw refuse('is a symlink loop');
    if (code === 'ENXIO') throw refuse('is a named pipe or socket, not a regular file');
    throw refuse(`cannot be opened (${code ?? 'error'})`);
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw refuse(`is ${kindOf(st)}, not a regular file`);
    if (st.size > maxBytes) throw refuse(`is ${st.size} bytes: a secret file holds at most ${maxBytes}`);
    const euid = process.geteuid?.() ?? 0;
    if (st.uid !== 0 && st.uid !== euid) throw refuse(`is owned by uid ${st.uid}, not root`, `chown root ${path}`);
    if (st.mode & 0o022) {
      throw refuse(
        `is writable by ${st.mode & 0o002 ? 'every user' : 'its group'} (mode ${octal(st.mode)}): anyone could replace the secret`,
        `chmod 600 ${path} (and consider rotating the secret)`,
      );
    }
    const buffer = Buffer.alloc(maxBytes + 1);
    const { bytesRead } = await handle.read(buffer, 0, maxBytes + 1, 0);
    if (bytesRead > maxBytes) throw refuse(`holds more than ${maxBytes} bytes`);
    const secret = buffer.subarray(0, bytesRead).toString('utf8').trim();
    buffer.fill(0);
    if (secret === '') throw refuse('is empty');
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(secret)) throw refuse('holds control characters or several lines: it must hold the secret alone');
    const warnings =
      st.mode & 0o044 ? [`${field} ${path} is readable by other users (mode ${octal(st.mode)}): chmod 600 it, and consider rotating the secret`] : [];
    return { secret, warnings };
  } finally {
    await handle.close();
  }
}

const octal = (mode: number) => (mode & 0o7777).toString(8).padStart(4, '0');
