import type { PluginSource } from '@flexnode/core';
import { isFlexnodeError } from '@flexnode/sdk';

/**
 * What a command's body needs from the command line around it. The oclif commands hand it their own methods
 * (FlexnodeCommand.io()); the fast path in bin/run.js (fast.ts) prints the same way without loading oclif.
 */
export interface CommandIo {
  /** --json was given (or FLEXNODE_CONTENT_TYPE=json): one JSON document on stdout, no other output. */
  readonly json: boolean;
  /** The CLI package: name and version. */
  readonly cli: { name: string; version: string };
  /** A line on stdout (nothing under --json). */
  log(message?: string): void;
  /** A line on stderr (nothing under --json). */
  logToStderr(message?: string): void;
  /** oclif's `Warning:` on stderr (nothing under --json). */
  warn(message: string): Promise<void>;
  /** Pretty JSON on stdout, under --json too. */
  logJson(value: unknown): void;
  /** End the command with this exit code (throws). */
  exit(code: number): never;
  /** The plugins of this CLI (bundled, user-installed, linked) as core's plugin sources. */
  pluginSources(): Promise<PluginSource[]>;
  /** A directory only this user can write, for what a later run may reuse (bin/run.js checks it); absent: none. */
  readonly cacheDir?: string;
}

/**
 * Print a FlexnodeError as a message and a hint (or JSON) and exit with its code; false for any other error
 * (oclif prints those its own way).
 */
export function reportFlexnodeError(io: CommandIo, error: unknown): boolean {
  if (!isFlexnodeError(error)) return false;
  const issues = (error as { issues?: unknown }).issues;
  const message = flagMessage(error.message);
  // The steps that ran before it, when the error carries them (an interrupted run).
  const results = (error as { results?: unknown }).results;
  if (io.json) {
    io.logJson({ ok: false, error: { code: error.code, message, hint: error.hint, issues }, ...(results ? { results } : {}) });
  } else {
    io.logToStderr(`Error: ${message}`);
    if (error.hint) io.logToStderr(`Hint: ${error.hint}`);
  }
  return io.exit(error.exitCode);
}

/** oclif wraps a flag's parse error in "Parsing --flag \n\t" and "\nSee more help with --help": the message alone says it. */
const flagMessage = (message: string) => message.replace(/^Parsing --[\w-]+ \n\t/, '').replace(/\nSee more help with --help$/, '');

/**
 * Any error that is not a FlexnodeError, as --json prints it: one `{"ok": false, "error": {code, message}}`
 * document (a usage error oclif refused is USAGE, exit 2). Returns the exit code.
 */
export function otherErrorJson(error: Error & { exitCode?: number; code?: unknown; oclif?: { exit?: number } }): { json: unknown; exitCode: number } {
  const usage = error.oclif?.exit === 2;
  const code = usage ? 'USAGE' : typeof error.code === 'string' ? error.code : 'FAILED';
  return { json: { ok: false, error: { code, message: error.message } }, exitCode: error.oclif?.exit ?? error.exitCode ?? 1 };
}
