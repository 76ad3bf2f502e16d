import { maskedUrl, type ConfigIssue } from '@flexnode/sdk';
import { closest } from './suggest.js';

/** The subset of an ajv error object this module reads. */
export interface SchemaError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
  parentSchema?: Record<string, unknown>;
  data?: unknown;
  schema?: unknown;
  propertyName?: string;
}

/** `/azure/arc/tags/0` → `azure.arc.tags[0]`. */
export function toDotted(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), '');
}

const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
const show = (v: unknown) => {
  // A URL's user:password is never echoed (a proxy or mirror URL that fails its pattern).
  const text = JSON.stringify(typeof v === 'string' ? maskedUrl(v) : v);
  return text === undefined ? String(v) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
};

/** Fields whose value is never echoed, at any depth of the path: what they hold is (or may hold) a secret. */
const SECRET_FIELD = /secret|password|passwd|token|credential|principal/i;

/**
 * The value of `error` as a message may show it: nothing for a secret field or anything inside one, and only
 * the type of an object or an array (it may hold one: `"servicePrincipal": {"tenantId": {"clientSecret": ...}}`).
 */
function shown(error: SchemaError, path: string): string {
  const type = error.data === null ? 'null' : typeOf(error.data);
  if (typeof error.data === 'object' || secretPath(path)) return type;
  return `${type} ${show(error.data)}`;
}

const secretPath = (path: string) => path.split(/[.[\]]/).some((part) => SECRET_FIELD.test(part));
/** The value itself, unless the field is a secret one. */
const echoed = (error: SchemaError, path: string) => (secretPath(path) ? '(a value not shown: a secret field)' : show(error.data));

/** A person-readable issue (field path + what was expected) for one ajv error. */
export function describeError(error: SchemaError): ConfigIssue {
  const path = toDotted(error.instancePath);
  const expected = error.parentSchema?.['x-expected'] as string | undefined;
  const join = (child: string) => (path ? `${path}.${child}` : child);
  switch (error.keyword) {
    case 'required':
      return { path: join(String(error.params.missingProperty)), message: 'is required but missing' };
    case 'additionalProperties': {
      const field = String(error.params.additionalProperty);
      const known = Object.keys((error.parentSchema?.properties as object | undefined) ?? {});
      const guess = closest(field, known);
      return {
        path: join(field),
        message: `is not a known field${guess ? ` (did you mean "${guess}"?)` : known.length ? `; known fields: ${known.join(', ')}` : ''}`,
      };
    }
    case 'type':
      return { path, message: `expected ${error.params.type}, got ${shown(error, path)}` };
    case 'enum':
      return {
        path,
        message: `expected one of ${(error.params.allowedValues as unknown[]).map((v) => show(v)).join(', ')}, got ${echoed(error, path)}`,
      };
    case 'pattern':
    case 'format':
      return { path, message: `expected ${expected ?? `a value matching ${String(error.params.pattern ?? error.params.format)}`}, got ${echoed(error, path)}` };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { path, message: `expected a number ${error.params.comparison} ${error.params.limit}, got ${echoed(error, path)}` };
    case 'minLength':
      return { path, message: `expected at least ${error.params.limit} character(s)` };
    case 'maxLength':
      return { path, message: `expected at most ${error.params.limit} characters` };
    case 'maxProperties':
      return { path, message: `expected at most ${error.params.limit} entries` };
    case 'uniqueItems':
      return { path, message: `expected unique items (items ${error.params.j} and ${error.params.i} are equal)` };
    case 'propertyNames': {
      const keyExpected = (error.parentSchema?.propertyNames as Record<string, unknown> | undefined)?.['x-expected'];
      return { path, message: `has an invalid key ${show(error.params.propertyName)}${typeof keyExpected === 'string' ? ` (expected ${keyExpected})` : ''}` };
    }
    default:
      return { path, message: `${expected ? `expected ${expected}: ` : ''}${error.message ?? error.keyword}` };
  }
}
