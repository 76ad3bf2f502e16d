import { FlexnodeError } from './errors.js';

/**
 * The one renderer for systemd unit files, drop-ins and environment files (systemd.syntax(7), systemd.exec(5),
 * systemd.service(5)). Every value is escaped for where it lands, so a config value can never add a line, a
 * setting or a command: the schema refuses bad values first, this is the second wall. What systemd cannot read
 * back exactly (a NUL byte; a newline in a plain value) throws `UNIT_VALUE_INVALID` instead of being written.
 *
 * ```ts
 * renderUnitFile({
 *   comment: 'Written by @org/plugin-x (step x.service).',
 *   sections: {
 *     Unit: [['Description', 'x agent']],
 *     Service: [
 *       ['Environment', { environment: { NO_PROXY: 'localhost,.internal' } }],
 *       ['ExecStart', { command: ['/usr/local/bin/x', '--name', name] }],
 *     ],
 *     Install: [['WantedBy', 'multi-user.target']],
 *   },
 * });
 * ```
 */

/** An ExecStart=-like command line: the executable (an absolute path) and its arguments, each one word. */
export interface UnitCommand {
  readonly command: readonly string[];
  /** The `-` prefix: a non-zero exit is not a failure (ExecStartPre=-/sbin/modprobe ...). */
  readonly ignoreFailure?: boolean;
}

/** An Environment= line: each variable one quoted `NAME=value` word. */
export interface UnitEnvironment {
  readonly environment: Readonly<Record<string, string>>;
}

/** A plain value (Description=, After=, a path, a number) is written as given, `%` escaped; an empty string resets a list setting. */
export type UnitValue = string | number | boolean | UnitCommand | UnitEnvironment;

/** One `Key=value` line. */
export type UnitEntry = readonly [key: string, value: UnitValue];

export interface UnitFile {
  /** A comment at the top (each line gets `# `). */
  readonly comment?: string;
  /** Section name (`Unit`, `Service`, `Install`, `X-...`) → its lines in order. */
  readonly sections: Readonly<Record<string, readonly UnitEntry[]>>;
}

const invalid = (what: string, value: string, why: string) =>
  new FlexnodeError('UNIT_VALUE_INVALID', `cannot write ${what} ${JSON.stringify(value)} into a systemd file: ${why}`);

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `%` starts a specifier (systemd.unit(5) "Specifiers") wherever systemd expands them: `%%` is a literal `%`. */
export function escapeSpecifiers(value: string): string {
  return value.replace(/%/g, '%%');
}

/** A value systemd takes to the end of the line (Description=, paths, After=). */
export function unitPlainValue(value: string, what = 'value'): string {
  if (value.includes('\0') || CONTROL.test(value)) throw invalid(what, value, 'it holds a control character');
  if (value !== value.trim()) throw invalid(what, value, 'leading or trailing whitespace is dropped by systemd');
  if (value.endsWith('\\')) throw invalid(what, value, 'a trailing backslash continues the line');
  return escapeSpecifiers(value);
}

/**
 * One word of a command line or an Environment= assignment: quoted when it holds anything but plain characters,
 * with C escapes inside the quotes (`\\`, `\"`, `\xNN` for control characters), `%` doubled, and in a command
 * line `$` doubled (systemd expands `$VAR` in ExecStart=, not in Environment=).
 */
export function unitWord(value: string, context: 'command' | 'environment' = 'command'): string {
  if (value.includes('\0')) throw invalid('word', value, 'systemd cannot carry a NUL byte');
  let text = escapeSpecifiers(value);
  if (context === 'command') text = text.replace(/\$/g, '$$$$');
  if (value !== '' && SAFE_WORD.test(value)) return text;
  const escaped = text.replace(/[\\"]/g, '\\$&').replace(CONTROL_GLOBAL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return `"${escaped}"`;
}
// eslint-disable-next-line no-control-regex
const CONTROL_GLOBAL = /[\u0000-\u001f\u007f]/g;

/** The value of ExecStart= (and ExecStartPre=, ...): the executable must be an absolute path. */
export function unitCommandLine(command: UnitCommand): string {
  const [executable, ...args] = command.command;
  if (executable === undefined || !executable.startsWith('/')) {
    throw invalid('executable', String(executable), 'an ExecStart= executable must be an absolute path');
  }
  if (CONTROL.test(executable)) throw invalid('executable', executable, 'it holds a control character');
  return `${command.ignoreFailure ? '-' : ''}${[executable, ...args].map((w) => unitWord(w, 'command')).join(' ')}`;
}

/** The value of one Environment= line. */
export function unitEnvironment(vars: Readonly<Record<string, string>>): string {
  return Object.entries(vars)
    .map(([name, value]) => {
      if (!ENV_NAME.test(name)) throw invalid('environment variable name', name, 'expected letters, digits and _');
      return unitWord(`${name}=${value}`, 'environment');
    })
    .join(' ');
}

const KEY = /^[A-Za-z][A-Za-z0-9]*$/;
const SECTION = /^(Unit|Service|Install|Socket|Timer|Path|Mount|Slice|Scope|X-[A-Za-z0-9-]+)$/;

function renderValue(key: string, value: UnitValue): string {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return unitPlainValue(value, `${key}=`);
  if ('command' in value) return unitCommandLine(value);
  return unitEnvironment(value.environment);
}

const commentLines = (comment: string | undefined) =>
  comment === undefined
    ? ''
    : comment
        .split('\n')
        .map((line) => `# ${line.replace(CONTROL_GLOBAL, ' ')}`.trimEnd())
        .join('\n') + '\n';

/** A unit file or drop-in, every value escaped for its setting. */
export function renderUnitFile(unit: UnitFile): string {
  const blocks = Object.entries(unit.sections).map(([section, entries]) => {
    if (!SECTION.test(section)) throw invalid('section', section, 'not a unit file section name');
    const lines = entries.map(([key, value]) => {
      if (!KEY.test(key)) throw invalid('key', key, 'not a unit file setting name');
      return `${key}=${renderValue(key, value)}`;
    });
    return `[${section}]\n${lines.map((l) => `${l}\n`).join('')}`;
  });
  return commentLines(unit.comment) + blocks.join('\n');
}

/**
 * An environment file for EnvironmentFile= (systemd.exec(5)): one `NAME="value"` per line, the value
 * double-quoted with `\`, `"`, `` ` `` and `$` escaped, so systemd reads it back exactly (no specifiers here).
 * Write it mode 0600 when it holds a credential (a proxy URL with a password).
 */
export function renderEnvironmentFile(vars: Readonly<Record<string, string>>, comment?: string): string {
  const lines = Object.entries(vars).map(([name, value]) => {
    if (!ENV_NAME.test(name)) throw invalid('environment variable name', name, 'expected letters, digits and _');
    if (value.includes('\0')) throw invalid(`${name}=`, value, 'systemd cannot carry a NUL byte');
    if (value.includes('\r')) throw invalid(`${name}=`, value, 'a carriage return is read as a line end');
    return `${name}="${value.replace(/[\\"`$]/g, '\\$&')}"\n`;
  });
  return commentLines(comment) + lines.join('');
}
