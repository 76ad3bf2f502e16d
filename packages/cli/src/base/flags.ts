import { Flags } from '@oclif/core';
import { checkRoot } from '@flexnode/sdk';

/** Flags every flexnode command takes. */
export const commonFlags = {
  config: Flags.string({
    char: 'c',
    summary: 'Path of the config file [default: /etc/aks-flex-node/config.json].',
    env: 'FLEXNODE_CONFIG',
  }),
  root: Flags.string({
    summary: 'Prefix for every path flexnode touches (sandboxes and tests).',
    default: '/',
    env: 'FLEXNODE_ROOT',
    // An empty value (`--root ''`, `FLEXNODE_ROOT=`) is refused with exit 2, never taken as the real host's `/`.
    parse: async (input) => checkRoot(input),
  }),
};

/** Restricts a run to some steps (and what they depend on). */
export const onlyFlag = Flags.string({
  summary: 'Run only these steps, capabilities or plugins (comma-separated) and what they depend on.',
  multiple: true,
  delimiter: ',',
});

/** Runs on the machine say more: every log line (the steps' own too, debug included) on stderr, and stacks. */
export const verboseFlag = Flags.boolean({
  summary: "Show every log line (the steps' own included) on stderr, and the stack of each failure.",
});
