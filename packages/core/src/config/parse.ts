import { ConfigError } from '@flexnode/sdk';

/**
 * Parse the config's text. A syntax error is reported by line, column and the field it sits in, never with the
 * parser's own message: V8 quotes the text around the error, which may be the secret next to it. A file that is
 * not JSON at all (`--config /etc/shadow`) is reported as such, without any of its bytes.
 */
export function parseConfigText(text: string, path: string): unknown {
  const body = text.replace(/^\uFEFF/, '');
  const hint = 'a flexnode config is a JSON object: {"azure": {...}, ...}';
  // eslint-disable-next-line no-control-regex
  if (body.includes('\uFFFD') || /[\u0000-\u0008\u000e-\u001f]/.test(body)) {
    throw new ConfigError(`${path} is not a text file, so not a JSON config`, [{ path: '', message: 'not a JSON document' }], hint);
  }
  const first = body.trimStart()[0];
  const notJson = (what: string) => new ConfigError(`${path} ${what}`, [{ path: '', message: 'not a JSON document' }], hint);
  if (first === undefined) throw notJson('is empty');
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch (error) {
    // Not even the start of a JSON object or array: some other file (`--config /etc/shadow`). Say so, nothing more.
    // A comment first (a JSONC habit): say that, not that the file is something else.
    if (/^\s*(\/\/|\/\*)/.test(body)) throw notJson('starts with a comment, which JSON does not allow (a config starts with "{")');
    if (first !== '{' && first !== '[') throw notJson('is not a JSON document (a config starts with "{")');
    const at = /position (\d+)/.exec((error as Error).message);
    const position = at ? Number(at[1]) : body.length;
    const before = body.slice(0, position);
    const line = before.split('\n').length;
    const column = position - before.lastIndexOf('\n');
    const field = fieldAt(before);
    const what = position >= body.length ? 'the file ends before the JSON does' : 'unexpected character';
    const where = `line ${line}, column ${column}${field ? `, in ${field}` : ''}`;
    throw new ConfigError(`${path} is not valid JSON: ${what} at ${where}`, [{ path: field, message: `invalid JSON at ${where}` }], hint);
  }
  // A bare string or number would be echoed by the validator's "expected object, got ...": it may be a secret.
  if (data === null || typeof data !== 'object') throw notJson('is not a JSON object (a config starts with "{")');
  const deep = tooDeep(data);
  if (deep !== undefined) {
    throw new ConfigError(
      `${path} nests deeper than ${MAX_DEPTH} levels (at ${deep || 'its top'})`,
      [{ path: deep, message: `nested deeper than ${MAX_DEPTH} levels` }],
      hint,
    );
  }
  return data;
}

/** No config needs more: the schema's deepest field is a few levels down, pluginConfig's a few more. */
export const MAX_DEPTH = 64;

/**
 * The dotted path where `data` first nests deeper than {@link MAX_DEPTH}, or undefined. Iterative: the
 * validator and the string rules walk the data recursively, and thousands of levels overflow their stack.
 */
function tooDeep(data: unknown): string | undefined {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value: data, path: '', depth: 1 }];
  while (stack.length) {
    const { value, path, depth } = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (depth > MAX_DEPTH) return path;
    for (const [key, child] of Object.entries(value)) {
      stack.push({ value: child, path: Array.isArray(value) ? `${path}[${key}]` : path ? `${path}.${key}` : key, depth: depth + 1 });
    }
  }
  return undefined;
}

type Frame = { kind: 'object'; key?: string; pending?: string } | { kind: 'array'; index: number };

/** The dotted path of the value being written at the end of `text` (a JSON prefix), as far as it can be told. */
export function fieldAt(text: string): string {
  const stack: Frame[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      let value = '';
      while (j < text.length && text[j] !== '"') {
        value += text[j] === '\\' ? (text[++j] ?? '') : text[j];
        j++;
      }
      const top = stack.at(-1);
      if (top?.kind === 'object' && top.key === undefined) top.pending = value;
      i = j + 1;
      continue;
    }
    const top = stack.at(-1);
    if (c === '{') stack.push({ kind: 'object' });
    else if (c === '[') stack.push({ kind: 'array', index: 0 });
    else if (c === '}' || c === ']') stack.pop();
    else if (c === ':' && top?.kind === 'object') top.key = top.pending;
    else if (c === ',' && top?.kind === 'object') top.key = top.pending = undefined;
    else if (c === ',' && top?.kind === 'array') top.index++;
    i++;
  }
  return stack.reduce<string>((acc, f) => {
    if (f.kind === 'array') return `${acc}[${f.index}]`;
    const key = f.key ?? f.pending;
    return key === undefined ? acc : acc ? `${acc}.${key}` : key;
  }, '');
}
