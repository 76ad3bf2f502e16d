/** Brand that identifies flexnode errors across duplicate copies of this SDK (instanceof does not). */
const BRAND = Symbol.for('flexnode.error');

/** Exit codes the CLI uses. */
export const ExitCode = {
  Ok: 0,
  /** A step failed or the node is unhealthy. */
  Failure: 1,
  /** Bad input: config, flags. Nothing was changed. */
  Usage: 2,
  /** Another run holds the lock. */
  Locked: 3,
} as const;

/** Base of every error flexnode reports to a person: a message, a stable code and a hint on what to do. */
export class FlexnodeError extends Error {
  readonly [BRAND] = true;
  readonly code: string;
  readonly hint?: string;
  readonly exitCode: number;

  constructor(code: string, message: string, options: { hint?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? ExitCode.Failure;
  }
}

/** True for a FlexnodeError from any copy of the SDK. */
export function isFlexnodeError(error: unknown): error is FlexnodeError {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[BRAND] === true;
}

/** One problem found in the config: the field's JSON path and what was expected. */
export interface ConfigIssue {
  path: string;
  message: string;
}

/** The config file is missing, unreadable or invalid. Exit code 2. */
export class ConfigError extends FlexnodeError {
  readonly issues: readonly ConfigIssue[];
  constructor(message: string, issues: readonly ConfigIssue[] = [], hint?: string) {
    super('CONFIG_INVALID', message, { hint, exitCode: ExitCode.Usage });
    this.issues = issues;
  }
}

/** A downloaded artifact's sha256 differs from the pinned one; nothing was unpacked. */
export class ChecksumError extends FlexnodeError {
  constructor(
    readonly artifact: string,
    readonly expected: string,
    readonly actual: string,
    readonly url: string,
  ) {
    super('CHECKSUM_MISMATCH', `${artifact}: sha256 mismatch for ${url}: expected ${expected}, got ${actual}`, {
      hint: 'the mirror serves a different or corrupted file; nothing was unpacked',
    });
  }
}

/** An artifact could not be fetched (404, refused, stalled, truncated). */
export class DownloadError extends FlexnodeError {
  constructor(
    readonly artifact: string,
    readonly url: string,
    reason: string,
    hint?: string,
  ) {
    super('DOWNLOAD_FAILED', `${artifact}: download of ${url} failed: ${reason}`, { hint });
  }
}

/** An archive holds an entry that would escape its target (absolute path, `..`, outward link, device). */
export class UnsafeArchiveError extends FlexnodeError {
  constructor(
    readonly archive: string,
    readonly entry: string,
    reason: string,
  ) {
    super('UNSAFE_ARCHIVE', `${archive}: refused entry "${entry}": ${reason}; nothing was unpacked`);
  }
}

/** A command exited non-zero (output already redacted). */
export class ExecError extends FlexnodeError {
  constructor(
    readonly command: string,
    readonly exitCode_: number,
    readonly stderr: string,
    hint?: string,
  ) {
    super('EXEC_FAILED', `${command} exited with code ${exitCode_}${stderr ? `: ${stderr.trim().slice(-2000)}` : ''}`, {
      hint,
    });
  }
}

/** A step's install finished but its check still is not ok, or the step threw. */
export class StepError extends FlexnodeError {
  constructor(
    readonly stepId: string,
    message: string,
    options: { hint?: string; cause?: unknown } = {},
  ) {
    super('STEP_FAILED', `step ${stepId}: ${message}`, options);
  }
}

/** An Azure call failed; the message says what to do (missing role and scope, missing resource, ...). */
export class AzureError extends FlexnodeError {
  constructor(
    message: string,
    readonly statusCode?: number,
    readonly azureCode?: string,
    hint?: string,
  ) {
    super('AZURE_ERROR', message, { hint });
  }
}
