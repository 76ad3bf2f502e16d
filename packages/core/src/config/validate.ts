import type { ConfigIssue } from '@flexnode/sdk';
import { createRequire } from 'node:module';
import { isIPv4Cidr } from './cidr.js';
import { describeError, toDotted, type SchemaError } from './messages.js';
import { configSchema } from './schema.js';

type Validator = ((data: unknown) => boolean) & { errors?: SchemaError[] | null };
let validator: Validator | undefined;

// ajv and ajv-formats are CommonJS; createRequire avoids the default-export interop dance.
const require = createRequire(import.meta.url);

function compile(): Validator {
  const Ajv = require('ajv').default;
  const addFormats = require('ajv-formats').default;
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });
  addFormats(ajv, ['uri']);
  ajv.addFormat('ipv4-cidr', { type: 'string', validate: isIPv4Cidr });
  ajv.addKeyword({ keyword: 'x-expected', schemaType: 'string' });
  return ajv.compile(configSchema()) as Validator;
}

/**
 * Validate a parsed config against the published schema. Errors at or under an `ignore` path (placeholders)
 * are left out. Returns one issue per field, with the field's path and what was expected.
 */
export function validateConfig(data: unknown, ignore: readonly string[] = []): ConfigIssue[] {
  validator ??= compile();
  if (validator(data)) return [];
  const errors = validator.errors ?? [];
  // A oneOf failure explains itself through x-expected; its branches' errors only add noise.
  const oneOfPaths = errors.filter((e) => e.keyword === 'oneOf').map((e) => e.instancePath);
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    if (error.keyword !== 'oneOf' && oneOfPaths.some((p) => error.instancePath.startsWith(p))) continue;
    if (error.keyword === 'if' || error.keyword === 'anyOf') continue;
    // A bad key fails its inner pattern too; the propertyNames error says it better.
    if (error.propertyName !== undefined && error.keyword !== 'propertyNames') continue;
    const issue = describeError(error);
    if (ignore.some((p) => issue.path === p || issue.path.startsWith(`${p}.`) || toDotted(error.instancePath) === p)) continue;
    if (seen.has(issue.path)) continue;
    seen.add(issue.path);
    issues.push(issue);
  }
  return issues.sort((a, b) => a.path.localeCompare(b.path));
}
