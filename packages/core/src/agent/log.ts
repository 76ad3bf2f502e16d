import type { LogFields, LogLevel } from '@flexnode/sdk';
import { createFileLogger, type Redactor, type RunLogger } from '../logging/index.js';

type Level = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
/** sd-daemon(3) priority prefixes: journald files a `<3>` line as an error (SyslogLevelPrefix=yes, the default). */
const PRIORITY: Record<Level, number> = { debug: 7, info: 6, warn: 4, error: 3 };

/** The agent's logger: its level can change on a config reload without opening another log file. */
export interface AgentLogger extends RunLogger {
  setLevel(level: LogLevel | undefined): void;
}

export interface AgentLoggerOptions {
  /** JSON lines go to `<logDir>/flexnode.log`. */
  logDir: string;
  level?: LogLevel;
  redactor: Redactor;
  /** Human lines (default process.stderr, which journald captures under systemd); null for none. */
  human?: { write(line: string): unknown } | null;
  /** Prefix human lines with `<N>` priorities (default: when stderr goes to the journal, $JOURNAL_STREAM). */
  priorities?: boolean;
  /** `agent --json`: each stderr line is a JSON object (`level`, `time`, `msg` and the fields) instead of text. */
  json?: boolean;
}

const norm = (level: LogLevel | undefined): Level => (level === 'warning' ? 'warn' : (level ?? 'info'));

/**
 * JSON lines in the log dir (core's pino file logger, opened once at debug and filtered here, so a SIGHUP that
 * changes `agent.logLevel` reopens nothing) and one human line per message on stderr for the journal.
 * Both are redacted: the file logger redacts itself, the human line is built from redacted text.
 */
export function createAgentLogger(options: AgentLoggerOptions): AgentLogger {
  const file = createFileLogger({ logDir: options.logDir, level: 'debug', redactor: options.redactor });
  const human = options.human === undefined ? process.stderr : options.human;
  const priorities = options.priorities ?? Boolean(process.env.JOURNAL_STREAM);
  const state = { level: norm(options.level) };

  const wrap = (inner: RunLogger, fixed: LogFields): AgentLogger => {
    const line = (level: Level) => (message: string, fields?: LogFields) => {
      if (RANK[level] < RANK[state.level]) return;
      inner[level](message, fields);
      if (!human) return;
      const all = options.redactor.redactValue({ ...fixed, ...fields });
      if (options.json) {
        const record = { level, time: new Date().toISOString(), msg: options.redactor.redact(message), ...all };
        human.write(`${priorities ? `<${PRIORITY[level]}>` : ''}${JSON.stringify(record)}\n`);
        return;
      }
      const extra = Object.entries(all)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? (/\s/.test(v) ? JSON.stringify(v) : v) : JSON.stringify(v)}`)
        .join(' ');
      const text = `${options.redactor.redact(message)}${extra ? ` ${extra}` : ''}`;
      human.write(priorities ? `<${PRIORITY[level]}>${text}\n` : `${level}: ${text}\n`);
    };
    return {
      debug: line('debug'),
      info: line('info'),
      warn: line('warn'),
      error: line('error'),
      child: (fields) => wrap(inner.child(fields), { ...fixed, ...fields }),
      flush: () => inner.flush(),
      setLevel: (level) => void (state.level = norm(level)),
    };
  };
  return wrap(file, {});
}
