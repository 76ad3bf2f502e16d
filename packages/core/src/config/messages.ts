import type { ConfigIssue } from '@flexnode/sdk';
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
  const text = JSON.stringify(v);
  return text === undefined ? String(v) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
};

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
      // null is its own type: "got null", not "got null null".
      return { path, message: `expected ${error.params.type}, got ${error.data === null ? 'null' : `${typeOf(error.data)} ${show(error.data)}`}` };
    case 'enum':
      return {
        path,
        message: `expected one of ${(error.params.allowedValues as unknown[]).map((v) => show(v)).join(', ')}, got ${show(error.data)}`,
      };
    case 'pattern':
    case 'format':
      return { path, message: `expected ${expected ?? `a value matching ${String(error.params.pattern ?? error.params.format)}`}, got ${show(error.data)}` };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { path, message: `expected a number ${error.params.comparison} ${error.params.limit}, got ${show(error.data)}` };
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
