import { firstDifference, serviceInputsChanged } from './helpers.js';
import type { Host } from './host.js';
import { drifted, missing, ok, type CheckResult } from './step.js';

/**
 * The check of a config file a step owns (containerd's config.toml, a drop-in): missing when absent, drifted when
 * it does not parse or its parsed content differs from `expected` (formatting and key order do not count; the
 * reason names the first differing key), else ok. `parse` is the format's parser (a TOML or YAML library's).
 */
export async function checkParsedFile(
  host: Host,
  path: string,
  expected: unknown,
  parse: (text: string) => unknown | Promise<unknown>,
  format = 'TOML',
): Promise<CheckResult> {
  const text = await host.files.readText(path);
  if (text === undefined) return missing(`${path} is absent`);
  let actual: unknown;
  try {
    actual = await parse(text);
  } catch (error) {
    return drifted(`${path} is not valid ${format}: ${(error as Error).message.split('\n')[0]}`);
  }
  const diff = firstDifference(expected, actual);
  return diff ? drifted(`${path}: ${diff}`) : ok();
}

/**
 * The check of a service a step runs with {@link runServiceWith}: enabled; and where a service manager runs, active
 * and started with `inputs` (else it needs a restart). Returns the first thing that is not so, or undefined when all
 * are, for the step to add its own probe (a socket answering); `ok` without a service manager (a sandbox root).
 */
export async function checkService(host: Host, unit: string, inputs: object, recordType: string): Promise<CheckResult | undefined> {
  if (!(await host.systemd.isEnabled(unit))) return missing(`${unit} is not enabled`);
  if (!(await host.systemd.available())) return ok(`${unit} enabled; no service manager is running, so its active state was not checked`);
  if (!(await host.systemd.isActive(unit))) return drifted(`${unit} is not active`);
  if (serviceInputsChanged(host, inputs, recordType))
    return drifted(`${unit} runs with inputs (config, binaries) older than the installed ones: it needs a restart`);
  return undefined;
}
