/**
 * Globals Node implements with undici, which it loads on first use and which compiles its HTTP parser to
 * WebAssembly. The agent runs --jitless (no WebAssembly), where that first use does not throw where it
 * happens but kills the process from inside Node's loader: the Azure SDK's pipeline merely tests
 * `typeof FormData` on every request, so the agent's first check that called Azure ended it.
 */
const UNDICI_GLOBALS = ['fetch', 'FormData', 'Headers', 'Request', 'Response', 'WebSocket', 'EventSource'] as const;

/**
 * Without WebAssembly, make those globals plainly absent (`undefined`), as on a runtime that lacks them: libraries
 * feature-test them and take their node:http path (the Azure SDK's), and a direct call fails as a catchable
 * TypeError instead of ending the agent. Returns the names it replaced. With WebAssembly it does nothing.
 */
export function withoutUndiciGlobals(global: Record<string, unknown> = globalThis as unknown as Record<string, unknown>): string[] {
  if ('WebAssembly' in globalThis) return [];
  const replaced: string[] = [];
  for (const name of UNDICI_GLOBALS) {
    const descriptor = Object.getOwnPropertyDescriptor(global, name);
    if (!descriptor?.configurable) continue;
    Object.defineProperty(global, name, { value: undefined, writable: true, configurable: true, enumerable: false });
    replaced.push(name);
  }
  return replaced;
}
