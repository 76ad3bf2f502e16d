import type { FlagSpecs } from '@flexnode/core/cli';

/**
 * The flags of the commands, as data: the oclif commands build their oclif flags from these (base/flags.ts) and
 * bin/run.js's fast path parses the same ones without oclif. No oclif import here: the fast path loads this.
 */
export const commonFlagSpecs = {
  config: {
    type: 'string',
    char: 'c',
    summary: 'Path of the config file [default: /etc/aks-flex-node/config.json].',
    env: 'FLEXNODE_CONFIG',
  },
  root: {
    type: 'string',
    summary: 'Prefix for every path flexnode touches (sandboxes and tests).',
    default: '/',
    env: 'FLEXNODE_ROOT',
  },
} as const satisfies FlagSpecs;

/** Restricts a run to some steps (and what they depend on). */
export const onlyFlagSpec = {
  type: 'string',
  summary: 'Run only these steps, capabilities or plugins (comma-separated) and what they depend on.',
  multiple: true,
  delimiter: ',',
} as const satisfies FlagSpecs[string];

/** Runs on the machine say more: every log line (the steps' own too, debug included) on stderr, and stacks. */
export const verboseFlagSpec = {
  type: 'boolean',
  summary: "Show every log line (the steps' own included) on stderr, and the stack of each failure.",
} as const satisfies FlagSpecs[string];

/** The `--json` flag oclif adds to every command with `enableJsonFlag` (the fast path parses it too). */
export const jsonFlagSpec = { type: 'boolean', summary: 'Format output as json.' } as const satisfies FlagSpecs[string];

export interface CommonFlags {
  config?: string;
  root: string;
}
