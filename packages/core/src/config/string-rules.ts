import { pathProblem, type ConfigIssue } from '@flexnode/sdk';

/**
 * The one rule for strings in the config, applied by walking the data alongside the schema, so that every string
 * is covered by construction: a field added to the schema later, and the free-form `pluginConfig`, included.
 * - Every string and every object key: no control character (C0, DEL, C1), whatever the field.
 * - A string whose schema says `"x-string": "path"`: an absolute, normalised path (no `.`/`..` segment, no `//`).
 * - `"x-string": "https-url"`: an `https:` URL with a host; `"http-url"`: `https:` or `http:` (declared only where
 *   a plain mirror, proxy or checksummed download is legitimate).
 * - `"x-url-base": true` on such a URL: a base that paths are appended to (a mirror, an endpoint): no query or fragment.
 * - `"x-url-origin": true`: a proxy: scheme, optional user:password, host and port, nothing after but a `/`.
 * - `"x-placeholders": ["%s", ...]`: a template holding exactly those printf placeholders, in that order (`%%` is
 *   a literal `%`), and a valid URL once they are filled.
 * A field without `x-string` gets a kind from its name (`...Dir`/`...File`/`...Path` → path, `...Url`/`...Endpoint`/
 * `...Mirror` → http-url), so a new field is checked before anyone remembers to declare it; `"x-string": "text"`
 * opts out.
 */
export type StringKind = 'path' | 'https-url' | 'http-url' | 'text';

/** Schema keywords that only annotate (ajv must know them in strict mode): the messages' and these rules'. */
export const SCHEMA_ANNOTATIONS = ['x-expected', 'x-string', 'x-placeholders', 'x-url-base', 'x-url-origin'] as const;

type Schema = Record<string, unknown>;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Why `value` is not a URL of one of `schemes` with a host (undefined when it is one). `base`: paths are appended
 * to it (no query or fragment); `origin`: a proxy, nothing after the host and port.
 */
export function urlProblem(value: string, schemes: readonly string[], shape?: 'base' | 'origin'): string | undefined {
  const expected = `expected an ${schemes.length === 2 ? 'http(s)' : schemes.join(' or ')} URL with a host`;
  if (/\s/.test(value)) return `${expected} (it holds whitespace)`;
  // The literal form `scheme://authority`: WHATWG parsing would also take `https:///x` or `https:host`.
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^/?#\\]+/i.test(value)) return expected;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return expected;
  }
  if (!schemes.includes(url.protocol.slice(0, -1))) return `${expected}, got a ${url.protocol} URL`;
  if (!url.hostname) return `${expected} (no host)`;
  // A base URL gets paths appended: a query (a SAS token, say) would end up in the middle of each download's URL.
  if (shape === 'base' && /[?#]/.test(value)) return `${expected} and no query or fragment (paths are appended to it)`;
  // A proxy URL is scheme, user:password, host and port. A password holding an unencoded '/', '?' or '#' ends the
  // authority early (http://user:12/x@proxy:3128 parses as host "user", port 12): the proxy dialled would be
  // another host. Tools ignore a proxy URL's path, so anything after the port is such a mistake.
  if (shape === 'origin' && (url.pathname !== '/' || /[?#]/.test(value))) {
    return `${expected} and nothing after its port, like http://user:password@proxy.example:3128 (a '/', '?', '#' or '@' in the password must be percent-encoded: %2F, %3F, %23, %40)`;
  }
  return undefined;
}

/** Why `value` holds a control character (undefined when it holds none). Never echoes the value: it may be a secret. */
export function controlProblem(value: string): string | undefined {
  const at = value.search(CONTROL);
  if (at < 0) return undefined;
  const code = value.charCodeAt(at).toString(16).toUpperCase().padStart(4, '0');
  return `holds a control character (U+${code}) at position ${at + 1}: no field accepts one`;
}

/** Why `template` does not hold exactly `placeholders` (printf style, `%%` literal), or is no URL once filled. */
export function templateProblem(template: string, placeholders: readonly string[], schemes: readonly string[]): string | undefined {
  const found = (template.match(/%./gs) ?? []).filter((p) => p !== '%%');
  if (template.replace(/%./gs, '').includes('%')) return 'ends with a lone "%"';
  if (found.join(' ') !== placeholders.join(' ')) {
    return `expected exactly the placeholders ${placeholders.join(', ')} in that order, got ${found.length ? found.join(', ') : 'none'}`;
  }
  return urlProblem(
    template.replace(/%./gs, (p) => (p === '%%' ? '%25' : 'x')),
    schemes,
  );
}

const SCHEMES: Record<Exclude<StringKind, 'path' | 'text'>, readonly string[]> = { 'https-url': ['https'], 'http-url': ['https', 'http'] };

/** The kind of a field the schema does not declare, from its name. */
export function inferredKind(key: string): StringKind | undefined {
  if (/(dir|file|path)$/i.test(key)) return 'path';
  if (/(url|uri|endpoint|mirror)$/i.test(key)) return 'http-url';
  return undefined;
}

function checkString(value: string, schema: Schema | undefined, key: string): string | undefined {
  const control = controlProblem(value);
  if (control) return control;
  const kind = (schema?.['x-string'] as StringKind | undefined) ?? inferredKind(key);
  const placeholders = schema?.['x-placeholders'] as string[] | undefined;
  if (placeholders) return templateProblem(value, placeholders, SCHEMES[kind as 'http-url'] ?? SCHEMES['https-url']);
  if (kind === 'path') return pathProblem(value);
  if (kind === 'https-url' || kind === 'http-url') {
    return urlProblem(value, SCHEMES[kind], schema?.['x-url-base'] === true ? 'base' : schema?.['x-url-origin'] === true ? 'origin' : undefined);
  }
  return undefined;
}

/** A local `$ref` (`#/properties/...`) resolved against the root schema. */
function deref(schema: Schema | undefined, root: Schema): Schema | undefined {
  let s = schema;
  for (let i = 0; s && typeof s.$ref === 'string' && i < 16; i++) {
    s = (s.$ref as string)
      .replace(/^#\/?/, '')
      .split('/')
      .filter(Boolean)
      .reduce<unknown>((node, part) => (node as Schema | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')], root) as Schema | undefined;
  }
  return s;
}

/** The branch of a oneOf/anyOf that fits a value's JSON type (the one whose rules apply to it). */
function branchFor(schema: Schema | undefined, value: unknown, root: Schema): Schema | undefined {
  const s = deref(schema, root);
  const branches = (s?.oneOf ?? s?.anyOf) as Schema[] | undefined;
  if (!branches) return s;
  const type = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
  return (
    deref(
      branches.find((b) => deref(b, root)?.type === type),
      root,
    ) ?? s
  );
}

/** Issues of every string (and key) in `data`, walked with `schema`; paths as the validator names them. */
export function stringIssues(data: unknown, schema: Schema): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const walk = (value: unknown, node: Schema | undefined, path: string, key: string) => {
    const s = branchFor(node, value, schema);
    if (typeof value === 'string') {
      const problem = checkString(value, s, key);
      if (problem) issues.push({ path, message: problem });
    } else if (Array.isArray(value)) {
      const items = deref(s?.items as Schema | undefined, schema);
      value.forEach((v, i) => walk(v, items, `${path}[${i}]`, key));
    } else if (value && typeof value === 'object') {
      const props = (s?.properties ?? {}) as Record<string, Schema>;
      const extra = typeof s?.additionalProperties === 'object' ? (s.additionalProperties as Schema) : undefined;
      for (const [k, v] of Object.entries(value)) {
        const keyProblem = controlProblem(k);
        if (keyProblem) {
          issues.push({ path: path || '(root)', message: `has a key that ${keyProblem}` });
          continue;
        }
        walk(v, Object.hasOwn(props, k) ? props[k] : extra, childPathOf(path, k), k);
      }
    }
  };
  walk(data, schema, '', '');
  return issues;
}

/** `a.b` and `a.b[0]`, as the validator's messages name fields (messages.ts toDotted). */
function childPathOf(parent: string, key: string): string {
  return parent ? `${parent}.${key}` : key;
}
