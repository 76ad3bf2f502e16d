import { Errors, type Hook } from '@oclif/core';

/**
 * A line that names no command (`flexnode nosuchcmd`, or `flexnode status extra`, which oclif reads as the command
 * `status:extra`): under `--json` (or FLEXNODE_CONTENT_TYPE=json) the usual `{"ok": false}` document on stdout and
 * exit 2, as every refused line; otherwise oclif's own message, unchanged.
 */
const hook: Hook<'command_not_found'> = async function ({ id, argv }) {
  const error = new Errors.CLIError(`command ${id} not found`, { exit: 2 });
  const json = [...(argv ?? []), ...process.argv.slice(2)].includes('--json') || process.env.FLEXNODE_CONTENT_TYPE?.toLowerCase() === 'json';
  if (!json) throw error;
  process.stdout.write(`${JSON.stringify({ ok: false, error: { code: 'USAGE', message: error.message } }, null, 2)}\n`);
  this.exit(2);
};

export default hook;
