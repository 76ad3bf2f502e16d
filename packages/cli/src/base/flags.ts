import { Flags } from '@oclif/core';
import { commonFlagSpecs, onlyFlagSpec } from '../run/flags.js';

// oclif flags from the specs in src/run/flags.ts, the one definition that bin/run.js's fast path parses too
// (src/fast.test.ts checks every field against oclif's manifest).
const { config, root } = commonFlagSpecs;

/** Flags every flexnode command takes. */
export const commonFlags = {
  config: Flags.string({ char: config.char, summary: config.summary, env: config.env }),
  root: Flags.string({ summary: root.summary, default: root.default, env: root.env }),
};

/** Restricts a run to some steps (and what they depend on). */
export const onlyFlag = Flags.string({ summary: onlyFlagSpec.summary, multiple: true, delimiter: onlyFlagSpec.delimiter });
