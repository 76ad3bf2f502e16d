import type { LogFields, Logger, LogLevel } from '@flexnode/sdk';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { coreRequire } from '../package-require.js';
import type { Redactor } from './redactor.js';

/** A logger that can hand out children carrying fixed fields (the step id). */
export interface RunLogger extends Logger {
  child(fields: LogFields): RunLogger;
  flush(): void;
}

const pinoLevel = (level: LogLevel | undefined) => (level === 'warning' ? 'warn' : (level ?? 'info'));

/**
 * JSON-lines logger writing `<logDir>/flexnode.log` with pino (sync writes: a killed run keeps its last lines).
 * Every message and field passes through the redactor first.
 */
export function createFileLogger(options: { logDir: string; level?: LogLevel; redactor: Redactor; also?: Logger }): RunLogger {
  const pino = coreRequire('pino') as typeof import('pino');
  mkdirSync(options.logDir, { recursive: true, mode: 0o750 });
  const destination = pino.destination({ dest: join(options.logDir, 'flexnode.log'), sync: true, mode: 0o640 });
  const base = pino({ level: pinoLevel(options.level), base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, destination);
  // `bound`: the fields of the child chain (the step id), which `also` gets with each line as the file does.
  const wrap = (p: import('pino').Logger, bound: LogFields): RunLogger => {
    const line = (level: 'debug' | 'info' | 'warn' | 'error') => (message: string, fields?: LogFields) => {
      const safe = options.redactor.redactValue(fields ?? {});
      p[level](safe, options.redactor.redact(message));
      options.also?.[level](options.redactor.redact(message), { ...bound, ...safe });
    };
    return {
      debug: line('debug'),
      info: line('info'),
      warn: line('warn'),
      error: line('error'),
      child: (fields) => {
        const safe = options.redactor.redactValue(fields);
        return wrap(p.child(safe), { ...bound, ...safe });
      },
      flush: () => destination.flushSync(),
    };
  };
  return wrap(base, {});
}

/**
 * A logger for a person watching (`--verbose`): every line, debug included, as `[step] level: message` through
 * `write` (stderr), redacted, with its fields as JSON. The error and stack of a failure are left to the progress
 * output, which shows them already.
 */
export function consoleLogger(write: (line: string) => void, redactor: Redactor, bound: LogFields = {}, warningsOnly = false): RunLogger {
  const line = (level: string) => (message: string, fields?: LogFields) => {
    if (warningsOnly && level !== 'warn') return; // errors: the run's report shows each failure once
    const {
      stack: _stack,
      error: _error,
      step,
      plugin: _plugin,
      command: _command,
      ...rest
    } = { ...bound, ...(redactor.redactValue(fields ?? {}) as LogFields) };
    const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
    write(`${step ? `[${String(step)}] ` : ''}${level}: ${redactor.redact(message)}${extra}\n`);
  };
  return {
    debug: line('debug'),
    info: line('info'),
    warn: line('warn'),
    error: line('error'),
    child: (fields) => consoleLogger(write, redactor, { ...bound, ...fields }, warningsOnly),
    flush: () => undefined,
  };
}

/** A logger that drops everything (dry runs, read-only commands without a writable log dir). */
export function nullLogger(): RunLogger {
  const none = () => undefined;
  const self: RunLogger = { debug: none, info: none, warn: none, error: none, child: () => self, flush: none };
  return self;
}
