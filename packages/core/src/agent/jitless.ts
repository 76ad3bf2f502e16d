/**
 * Globals Node implements with undici, which it loads on first use and which compiles its HTTP parser to
 * WebAssembly. The agent runs --jitless (no WebAssembly), where that first use does not throw where it
 * happens but kills the process from inside Node's loader: the Azure SDK's pipeline merely tests
 * `typeof FormData` on every request, so the agent's first check that called Azure ended it.
 */
const UNDICI_GLOBALS = ['fetch', 'FormData', 'Headers', 'Request', 'Response', 'MessageEvent', 'WebSocket', 'CloseEvent', 'EventSource'] as const;

/**
 * Without WebAssembly, make those globals plainly absent (`undefined`), as on a runtime that lacks them: libraries
 * feature-test them and take their node:http path (the Azure SDK's), and a direct call fails as a catchable
 * TypeError instead of ending the agent. Returns the names it replaced. With WebAssembly it does nothing.
 *
 * Each is deleted before it is defined again: on Node 22 they are V8 lazy data properties, which
 * Object.getOwnPropertyDescriptor and Object.defineProperty materialise (loading undici, which ends the process);
 * `delete` does not. A global that cannot be deleted is left as it is.
 */
export function withoutUndiciGlobals(global: Record<string, unknown> = globalThis as unknown as Record<string, unknown>): string[] {
  if ('WebAssembly' in globalThis) return [];
  const replaced: string[] = [];
  for (const name of UNDICI_GLOBALS) {
    if (!(name in global) || !Reflect.deleteProperty(global, name)) continue;
    Object.defineProperty(global, name, { value: undefined, writable: true, configurable: true, enumerable: false });
    replaced.push(name);
  }
  return replaced;
}
