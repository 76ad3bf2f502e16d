export { Redactor, REDACTED } from './redactor.js';
export { createFileLogger, nullLogger, type RunLogger } from './file-logger.js';
