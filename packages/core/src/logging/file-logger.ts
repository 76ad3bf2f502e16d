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
  const wrap = (p: import('pino').Logger): RunLogger => {
    const line = (level: 'debug' | 'info' | 'warn' | 'error') => (message: string, fields?: LogFields) => {
      const safe = options.redactor.redactValue(fields ?? {});
      p[level](safe, options.redactor.redact(message));
      options.also?.[level](options.redactor.redact(message), safe);
    };
    return {
      debug: line('debug'),
      info: line('info'),
      warn: line('warn'),
      error: line('error'),
      child: (fields) => wrap(p.child(options.redactor.redactValue(fields))),
      flush: () => destination.flushSync(),
    };
  };
  return wrap(base);
}

/** A logger that drops everything (dry runs, read-only commands without a writable log dir). */
export function nullLogger(): RunLogger {
  const none = () => undefined;
  const self: RunLogger = { debug: none, info: none, warn: none, error: none, child: () => self, flush: none };
  return self;
}
