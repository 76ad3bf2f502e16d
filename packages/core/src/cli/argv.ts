/**
 * Command-line flags as plain data, parsed without oclif. The oclif commands build their oclif flags from the
 * same specs, so the CLI's fast paths (bin/run.js: `flexnode agent`, `steps`, `status`, `version`) and oclif read
 * a line alike; tests compare the two parsers on the same lines.
 */
export interface FlagSpec {
  type: 'string' | 'integer' | 'boolean';
  summary: string;
  char?: string;
  env?: string;
  default?: string;
  multiple?: boolean;
  delimiter?: string;
  min?: number;
  hidden?: boolean;
}

export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

/**
 * Parse `argv` as oclif parses these flags in strict mode with no arguments (`--name value`, `--name=value`,
 * `-c value`, bare booleans, repeated or delimited `multiple` flags, environment fallbacks for flags not given).
 * Undefined when anything is not plainly one of them: help, an argument, an unknown flag, a missing or invalid
 * value, a flag given twice. oclif then handles the line, and prints what it prints for it.
 */
export function parseArgv(specs: FlagSpecs, argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Record<string, unknown> | undefined {
  const byChar = new Map(Object.entries(specs).flatMap(([name, s]) => (s.char ? [[s.char, name] as const] : [])));
  const values = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    let name: string | undefined;
    let value: string | undefined;
    if (arg.startsWith('--') && arg.length > 2) {
      const eq = arg.indexOf('=');
      name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      if (eq >= 0) value = arg.slice(eq + 1);
    } else if (/^-[a-zA-Z]$/.test(arg)) {
      name = byChar.get(arg[1]!);
    }
    const spec = name === undefined ? undefined : specs[name];
    if (!name || !spec) return undefined;
    if (!spec.multiple && values.has(name)) return undefined;
    if (spec.type === 'boolean') {
      if (value !== undefined) return undefined;
      values.set(name, ['true']);
      continue;
    }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined || value.startsWith('-')) return undefined;
    }
    const parts = spec.multiple && spec.delimiter ? value.split(spec.delimiter) : [value];
    values.set(name, [...(values.get(name) ?? []), ...parts]);
  }
  const flags: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.type === 'boolean') {
      if (values.has(name)) flags[name] = true;
      continue;
    }
    const given = values.get(name) ?? (spec.env && env[spec.env] ? [env[spec.env]!] : spec.default !== undefined ? [spec.default] : undefined);
    if (!given) continue;
    if (spec.type === 'integer') {
      if (!/^-?\d+$/.test(given[0]!)) return undefined;
      const n = Number(given[0]);
      if (spec.min !== undefined && n < spec.min) return undefined;
      flags[name] = n;
    } else {
      flags[name] = spec.multiple ? given : given[0];
    }
  }
  return flags;
}
