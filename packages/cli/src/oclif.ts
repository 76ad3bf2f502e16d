// The oclif runtime bin/run.js starts, as an entry of the CLI's bundle (scripts/bundle-package.mjs): bundled
// once, shared with the commands, instead of ~180 module files loaded one by one. The fast path (fast.ts)
// borrows oclif's warning and error printing from here when it has a warning or an unexpected error to print.
export { execute, handle } from '@oclif/core';
export { warn } from '@oclif/core/errors';
