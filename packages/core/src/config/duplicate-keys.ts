/**
 * The keys a JSON text gives more than once in one object, as dotted paths (`azure.subscriptionId`), in the order
 * met. JSON.parse keeps the last silently (so did the Go tool's encoding/json), and a config edited by hand may
 * carry an old value above the one meant: which one counts is worth a warning. `text` must be valid JSON.
 */
export function duplicateKeys(text: string): string[] {
  const found: string[] = [];
  // One frame per open object or array: the object's keys seen, and its path.
  const stack: { keys?: Set<string>; path: string; index: number }[] = [];
  let pendingKey: string | undefined;
  const pathOf = (frame: { path: string }, key: string) => (frame.path ? `${frame.path}.${key}` : key);
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = stack.at(-1);
      let k = j + 1;
      while (/\s/.test(text[k] ?? '')) k++;
      if (top?.keys && text[k] === ':') {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.keys.has(key)) found.push(pathOf(top, key));
        top.keys.add(key);
        pendingKey = key;
      }
      i = j;
    } else if (c === '{' || c === '[') {
      const top = stack.at(-1);
      const path = top === undefined ? '' : top.keys ? pathOf(top, pendingKey ?? '') : `${top.path}[${top.index}]`;
      stack.push(c === '{' ? { keys: new Set(), path, index: 0 } : { path, index: 0 });
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      const top = stack.at(-1);
      if (top && !top.keys) top.index++;
    }
  }
  return found;
}
