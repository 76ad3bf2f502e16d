import type { ConfigIssue } from '@flexnode/sdk';
import { isIPv4Cidr } from './cidr.js';
import { describeError, toDotted, type SchemaError } from './messages.js';
import { configSchema } from './schema.js';
import { SCHEMA_ANNOTATIONS, stringIssues } from './string-rules.js';
import { coreRequire } from '../package-require.js';

type Validator = ((data: unknown) => boolean) & { errors?: SchemaError[] | null };
let validator: Validator | undefined;

/**
 * The validator generated at build time (scripts/compile-schema.mjs); compiling the schema with ajv at run
 * time is the fallback (a source checkout before `npm run build`), and costs ~250 ms.
 */
function load(): Validator {
  try {
    return coreRequire('./dist/config/schema-validator.cjs') as Validator;
  } catch {
    const Ajv = coreRequire('ajv').default;
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });
    for (const keyword of SCHEMA_ANNOTATIONS) ajv.addKeyword({ keyword });
    return ajv.compile(configSchema()) as Validator;
  }
}

/** Checks a JSON Schema cannot express. */
function semanticIssues(data: unknown): ConfigIssue[] {
  const cni = (data as { cni?: { podCIDR?: unknown; podCIDRPool?: { cidr?: unknown } } } | null)?.cni;
  const issues: ConfigIssue[] = [];
  for (const [path, value] of [['cni.podCIDR', cni?.podCIDR], ['cni.podCIDRPool.cidr', cni?.podCIDRPool?.cidr]] as const) {
    if (typeof value === 'string' && !isIPv4Cidr(value)) {
      issues.push({ path, message: `expected an IPv4 CIDR such as 10.244.1.0/24 (octets <= 255, host bits zero), got ${JSON.stringify(value)}` });
    }
  }
  return issues;
}

/**
 * Validate a parsed config against the published schema. Errors at or under an `ignore` path (placeholders)
 * are left out. Returns one issue per field, with the field's path and what was expected.
 */
export function validateConfig(data: unknown, ignore: readonly string[] = []): ConfigIssue[] {
  validator ??= load();
  const valid = validator(data);
  const errors = valid ? [] : (validator.errors ?? []);
  // A oneOf failure explains itself through x-expected; its branches' errors only add noise.
  const oneOfPaths = errors.filter((e) => e.keyword === 'oneOf').map((e) => e.instancePath);
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  const ignored = (path: string) => ignore.some((p) => path === p || path.startsWith(`${p}.`));
  // The string rules first: they say precisely what is wrong (and never echo the value), so a pattern error on
  // the same field adds nothing.
  for (const issue of stringIssues(data, configSchema())) {
    if (ignored(issue.path) || seen.has(issue.path)) continue;
    seen.add(issue.path);
    issues.push(issue);
  }
  for (const error of errors) {
    if (error.keyword !== 'oneOf' && oneOfPaths.some((p) => error.instancePath.startsWith(p))) continue;
    if (error.keyword === 'if' || error.keyword === 'anyOf') continue;
    // A bad key fails its inner pattern too; the propertyNames error says it better.
    if (error.propertyName !== undefined && error.keyword !== 'propertyNames') continue;
    const issue = describeError(error);
    if (ignored(issue.path) || ignored(toDotted(error.instancePath)) || seen.has(issue.path)) continue;
    seen.add(issue.path);
    issues.push(issue);
  }
  for (const issue of semanticIssues(data)) if (!ignored(issue.path) && !seen.has(issue.path)) issues.push(issue);
  return issues.sort((a, b) => a.path.localeCompare(b.path));
}
