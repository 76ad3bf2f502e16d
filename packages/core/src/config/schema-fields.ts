/** A place in a config, as object keys and array indexes. */
export type Segment = string | number;

/** A string field of the config schema: where it sits (map keys and array indexes as samples) and its schema. */
export interface StringField {
  path: Segment[];
  schema: Record<string, any>;
}

type Schema = Record<string, any>;

const deref = (s: Schema, root: Schema): Schema =>
  typeof s?.$ref === 'string'
    ? deref(
        (s.$ref as string)
          .slice(2)
          .split('/')
          .reduce((n: Schema, p: string) => n[p], root),
        root,
      )
    : s;

/**
 * Every place a string can sit in a config, found by walking the JSON Schema (properties, `additionalProperties`
 * maps with the sample key `k`, array items at index 0, oneOf/anyOf branches, local `$ref`s): what the tests of
 * the string rules iterate over, so a field added to the schema is tested without anyone listing it.
 */
export function stringFields(schema: Schema, root: Schema = schema, path: Segment[] = []): StringField[] {
  const s = deref(schema, root);
  if (!s || typeof s !== 'object') return [];
  const out: StringField[] = [];
  if (s.type === 'string') out.push({ path, schema: s });
  for (const branch of [...(s.oneOf ?? []), ...(s.anyOf ?? [])]) out.push(...stringFields(branch, root, path));
  for (const [key, child] of Object.entries((s.properties ?? {}) as Record<string, Schema>)) out.push(...stringFields(child, root, [...path, key]));
  if (typeof s.additionalProperties === 'object') out.push(...stringFields(s.additionalProperties, root, [...path, 'k']));
  if (s.items) out.push(...stringFields(s.items, root, [...path, 0]));
  return out;
}

/** `a.b[0].c`: a field's path as config errors name it. */
export const dotted = (path: readonly Segment[]): string =>
  path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
