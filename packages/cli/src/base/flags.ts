import { Flags } from '@oclif/core';
import { checkRoot } from '@flexnode/sdk';
import { commonFlagSpecs, onlyFlagSpec, verboseFlagSpec } from '../run/flags.js';

// oclif flags from the specs in src/run/flags.ts, the one definition that bin/run.js's fast path parses too
// (src/fast.test.ts checks every field against oclif's manifest).
const { config, root } = commonFlagSpecs;

/** Flags every flexnode command takes. */
export const commonFlags = {
  config: Flags.string({ char: config.char, summary: config.summary, env: config.env }),
  // An empty value (`--root ''`, `FLEXNODE_ROOT=`) is refused with exit 2, never taken as the real host's `/`.
  root: Flags.string({ summary: root.summary, default: root.default, env: root.env, parse: async (input) => checkRoot(input) }),
};

/** Restricts a run to some steps (and what they depend on). */
export const onlyFlag = Flags.string({ summary: onlyFlagSpec.summary, multiple: true, delimiter: onlyFlagSpec.delimiter });

/** Runs on the machine say more: every log line (the steps' own too) on stderr, and stacks. */
export const verboseFlag = Flags.boolean({ summary: verboseFlagSpec.summary });
