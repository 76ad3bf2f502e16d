// YAML of the files flexnode writes itself (kubeconfigs, the kubelet's and kube-proxy's configs), without loading
// the YAML library (~160 kB of code, ~40 ms of a node's `status` with its first parse and stringify) when the data
// is plain: maps, sequences, integers, booleans and strings the library writes unquoted. Such data is written
// exactly as the library writes it (yaml-text.test.ts compares the two), and text is read back only when writing
// what was read gives the same text again; anything else goes to the library.

type Plain = string | number | boolean | Plain[] | { [key: string]: Plain };

/** Strings the library writes unquoted and reads back as strings (a conservative subset: no spaces, no quotes). */
const PLAIN_STRING = /^(?:[A-Za-z0-9/]|-(?=[A-Za-z0-9/-]))[A-Za-z0-9._/:=+@%-]*$/;
/** What YAML 1.2's core schema reads as something other than a string (any case, to stay on the safe side). */
const NOT_A_STRING = /^(?:true|false|null|~|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:e[-+]?[0-9]+)?|0o[0-7]+|0x[0-9a-f]+|[-+]?\.inf|\.nan)$/i;
const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_./-]*$/;

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function scalar(value: unknown): string | undefined {
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number') return Number.isSafeInteger(value) ? String(value) : undefined;
  if (typeof value === 'string' && PLAIN_STRING.test(value) && !NOT_A_STRING.test(value) && !value.endsWith(':')) return value;
  return undefined;
}

/** `value` after `key:` or `-`: inline (a scalar, [] or {}), or undefined when it needs a block of its own. */
function inline(value: unknown): string | undefined | false {
  if (Array.isArray(value)) return value.length === 0 ? '[]' : undefined;
  if (isMap(value)) return Object.keys(value).length === 0 ? '{}' : undefined;
  return scalar(value) ?? false;
}

/** The lines of a non-empty map or sequence at `indent`, or undefined when some part is not plain. */
function block(value: unknown, indent: number): string[] | undefined {
  const pad = ' '.repeat(indent);
  const lines: string[] = [];
  if (isMap(value)) {
    for (const [key, item] of Object.entries(value)) {
      const text = inline(item);
      if (!PLAIN_KEY.test(key) || NOT_A_STRING.test(key) || text === false) return undefined;
      if (text !== undefined) {
        lines.push(`${pad}${key}: ${text}`);
        continue;
      }
      const inner = block(item, indent + 2);
      if (!inner) return undefined;
      lines.push(`${pad}${key}:`, ...inner);
    }
    return lines;
  }
  if (Array.isArray(value)) {
    for (const item of value) {
      const text = inline(item);
      if (text === false || (text === undefined && !isMap(item))) return undefined; // sequences of sequences: the library's
      if (text !== undefined) {
        lines.push(`${pad}- ${text}`);
        continue;
      }
      const inner = block(item, indent + 2);
      if (!inner) return undefined;
      lines.push(`${pad}- ${inner[0]!.slice(indent + 2)}`, ...inner.slice(1));
    }
    return lines;
  }
  return undefined;
}

/** `value` as the YAML library's stringify writes it, or undefined when it is not plain data. */
export function plainYaml(value: unknown): string | undefined {
  if (!isMap(value) || Object.keys(value).length === 0) return undefined;
  const lines = block(value, 0);
  return lines && `${lines.join('\n')}\n`;
}

/** Read YAML that {@link plainYaml} would write (leading comment lines aside), or undefined. */
export function readPlainYaml(text: string): Plain | undefined {
  const lines = text.split('\n');
  let start = 0;
  while (start < lines.length && lines[start]!.startsWith('#')) start++;
  const body = lines.slice(start);
  if (body.at(-1) !== '') return undefined;
  body.pop();
  let at = 0;
  const indentOf = (line: string) => line.length - line.trimStart().length;
  const value = (token: string): Plain => {
    if (token === '[]') return [];
    if (token === '{}') return {};
    if (token === 'true' || token === 'false') return token === 'true';
    return /^-?[0-9]+$/.test(token) ? Number(token) : token;
  };
  const entry = /^([A-Za-z_][A-Za-z0-9_./-]*):(?: (.*))?$/;
  const parse = (indent: number): Plain | undefined => {
    const first = body[at];
    if (first === undefined || indentOf(first) !== indent) return undefined;
    if (first.slice(indent).startsWith('- ')) {
      const list: Plain[] = [];
      while (at < body.length && indentOf(body[at]!) === indent && body[at]!.slice(indent).startsWith('- ')) {
        const rest = body[at]!.slice(indent + 2);
        if (entry.test(rest)) {
          body[at] = `${' '.repeat(indent + 2)}${rest}`; // the item's first key, at its map's indent
          const item = parse(indent + 2);
          if (item === undefined) return undefined;
          list.push(item);
        } else {
          list.push(value(rest));
          at++;
        }
      }
      return list;
    }
    const map: Record<string, Plain> = {};
    while (at < body.length && indentOf(body[at]!) === indent && !body[at]!.slice(indent).startsWith('- ')) {
      const m = entry.exec(body[at]!.slice(indent));
      if (!m) return undefined;
      at++;
      if (m[2] !== undefined) {
        map[m[1]!] = value(m[2]);
        continue;
      }
      const next = body[at];
      const inner = next !== undefined && indentOf(next) > indent ? parse(indentOf(next)) : undefined;
      if (inner === undefined) return undefined;
      map[m[1]!] = inner;
    }
    return map;
  };
  const original = body.join('\n');
  const result = parse(0);
  // Only text this module would write back the same way is read here: anything else is the library's.
  return result !== undefined && at === body.length && plainYaml(result) === `${original}\n` ? result : undefined;
}

/** YAML text of `value`: {@link plainYaml} when it can, else the YAML library's stringify (the same text). */
export async function toYaml(value: unknown): Promise<string> {
  return plainYaml(value) ?? (await import('yaml')).stringify(value);
}

/** Parse YAML: {@link readPlainYaml} when it can, else the YAML library (which throws on bad YAML). */
export async function fromYaml(text: string): Promise<unknown> {
  return readPlainYaml(text) ?? (await import('yaml')).parse(text);
}
