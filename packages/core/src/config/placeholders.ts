/**
 * The upstream README's example config ships placeholders ("your-subscription-id", "<tenant-id>").
 * They are recognised so that `config validate` and `plan` can name them, while a real bootstrap refuses them.
 */
const PLACEHOLDER = /(^|[/=])your-[\w-]*|<[^<>]+>/;

/** Dotted paths of string values that are placeholders. */
export function findPlaceholders(value: unknown, path = ''): string[] {
  if (typeof value === 'string') return PLACEHOLDER.test(value) ? [path] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => findPlaceholders(v, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => findPlaceholders(v, path ? `${path}.${k}` : k));
  }
  return [];
}
