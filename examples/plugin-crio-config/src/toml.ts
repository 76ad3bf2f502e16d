/**
 * A TOML value for a drop-in: strings as JSON string literals (every JSON escape, \" \\ \n \uXXXX, is a TOML basic
 * string escape too, so nothing a value holds can end the string), string arrays, booleans.
 */
export function tomlValue(value: string | boolean | readonly string[]): string {
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  return `[${value.map((v) => JSON.stringify(v)).join(', ')}]`;
}

/** Tables of keys and values, in the order given, as TOML text. */
export function renderTables(tables: Record<string, Record<string, string | boolean | readonly string[]>>): string {
  return Object.entries(tables)
    .map(
      ([table, keys]) =>
        `[${table}]\n${Object.entries(keys)
          .map(([k, v]) => `${k} = ${tomlValue(v)}`)
          .join('\n')}\n`,
    )
    .join('\n');
}
