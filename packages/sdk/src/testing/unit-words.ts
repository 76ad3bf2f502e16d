/**
 * For tests: the argv of the last non-empty `ExecStart=` of a unit or drop-in written by `renderUnitFile`, the
 * words as systemd splits a command line (double quotes, `\\`, `\"`, `\xNN`, `%%` for `%`, `$$` for `$`).
 * Tests run a stand-in with exactly what the unit says; `systemd-analyze verify` is the check of the syntax itself.
 */
export function execStartOf(unit: string): string[] {
  const line = unit
    .split('\n')
    .filter((l) => l.startsWith('ExecStart=') && l !== 'ExecStart=')
    .pop();
  if (!line) return [];
  const words =
    line
      .slice('ExecStart='.length)
      .replace(/^[-@:+!]+/, '')
      .match(/"(?:[^"\\]|\\.)*"|\S+/g) ?? [];
  return words.map((w) =>
    (w.startsWith('"')
      ? w.slice(1, -1).replace(/\\x([0-9a-f]{2})|\\(.)/g, (_m, hex: string | undefined, c: string) => (hex ? String.fromCharCode(parseInt(hex, 16)) : c))
      : w
    )
      .replace(/%%/g, '%')
      .replace(/\$\$/g, '$'),
  );
}
