// The oclif runtime bin/run.js starts, as an entry of the CLI's bundle (scripts/bundle.mjs): bundled once,
// shared with the commands, instead of ~180 module files loaded one by one.
export { execute } from '@oclif/core';
