export { Redactor, REDACTED } from './redactor.js';
export { consoleLogger, createFileLogger, nullLogger, type RunLogger } from './file-logger.js';
