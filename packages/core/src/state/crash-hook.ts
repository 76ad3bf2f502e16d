/**
 * TEST-ONLY crash points. When the environment variable `FLEXNODE_CRASH_AT` names a point (e.g.
 * `journal:before-rename`, `journal:after-rename`), the process SIGKILLs itself there: no cleanup, no
 * finally blocks, exactly like a power cut or the OOM killer. A `#N` suffix (`file:before-rename#3`) kills at the
 * N-th time the point is reached instead of the first. The unit tests and the reliability suite
 * (e2e/src/reliability) use it to prove that a killed run leaves state that the next run can load and resume.
 * `FLEXNODE_CRASH_SIGNAL` (e.g. SIGTERM) sends that signal instead, to test how a run honours it mid-step.
 * Never set it in production.
 */
const hits = new Map<string, number>();

export function crashPoint(name: string): void {
  const at = process.env.FLEXNODE_CRASH_AT;
  if (!at) return;
  const n = (hits.get(name) ?? 0) + 1;
  hits.set(name, n);
  if (at === name || at === `${name}#${n}`) process.kill(process.pid, (process.env.FLEXNODE_CRASH_SIGNAL as NodeJS.Signals | undefined) ?? 'SIGKILL');
}
