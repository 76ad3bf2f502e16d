/**
 * `@flexnode/core/test-fixtures`: the configs core's own tests use, for the other packages' tests (the CLI's, the
 * e2e tiers). Test fixtures: *.fixture.* files are not published (package.json `files`).
 */
export { badConfigs, type BadConfig } from './config/bad-configs.fixture.js';
export { fullConfig } from './config/valid-config.fixture.js';
