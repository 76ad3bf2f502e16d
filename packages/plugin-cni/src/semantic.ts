/**
 * The first place where two parsed documents differ, as a readable key path (`plugins."io.containerd.grpc.v1.cri".sandbox_image`),
 * or undefined when they are semantically equal (key order and formatting do not count).
 */
export function firstDifference(expected: unknown, actual: unknown, path = ''): string | undefined {
  if (isObject(expected) && isObject(actual)) {
    const keys = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
    for (const key of keys) {
      const sub = path === '' ? quoteKey(key) : `${path}.${quoteKey(key)}`;
      if (!(key in actual)) return `${sub} is missing`;
      if (!(key in expected)) return `${sub} is unexpected`;
      const diff = firstDifference(expected[key], actual[key], sub);
      if (diff) return diff;
    }
    return undefined;
  }
  if (Array.isArray(expected) && Array.isArray(actual)) {
    if (expected.length !== actual.length) return `${path || 'document'} has ${actual.length} entries, expected ${expected.length}`;
    for (let i = 0; i < expected.length; i++) {
      const diff = firstDifference(expected[i], actual[i], `${path}[${i}]`);
      if (diff) return diff;
    }
    return undefined;
  }
  if (normalize(expected) === normalize(actual)) return undefined;
  return `${path || 'document'} is ${JSON.stringify(normalize(actual))}, expected ${JSON.stringify(normalize(expected))}`;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);

// TOML parsers may hand back integers as bigint; compare them as numbers.
const normalize = (v: unknown) => (typeof v === 'bigint' ? Number(v) : v);

const quoteKey = (key: string) => (/^[A-Za-z0-9_-]+$/.test(key) ? key : JSON.stringify(key));
