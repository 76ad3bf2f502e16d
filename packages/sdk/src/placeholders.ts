/**
 * The upstream README's example config ships placeholders (`your-subscription-id`, `<tenant-id>`), its installer's
 * template others (`YOUR_SUBSCRIPTION_ID`): a value that still holds one was never filled in. Core lists them when
 * a config loads; plugins refuse to send one to Azure.
 */
const PLACEHOLDER = /(^|[/=])your[-_][\w-]*|<[^<>]+>/i;

/** True when `value` is (or contains, as a path segment) an example placeholder. */
export function isPlaceholder(value: unknown): value is string {
  return typeof value === 'string' && PLACEHOLDER.test(value);
}

/** Dotted paths (`azure.tenantId`, `node.taints[0]`) of the string values under `value` that are placeholders. */
export function findPlaceholders(value: unknown, path = ''): string[] {
  if (typeof value === 'string') return isPlaceholder(value) ? [path] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => findPlaceholders(v, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => findPlaceholders(v, path ? `${path}.${k}` : k));
  }
  return [];
}
