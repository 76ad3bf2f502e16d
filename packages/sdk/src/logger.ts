/** Structured fields attached to a log line. Values are redacted by core when they hold a known secret. */
export type LogFields = Record<string, unknown>;

/** A structured logger. Core's implementation writes JSON lines to the configured logDir. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}
