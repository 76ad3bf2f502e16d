/**
 * TEST-ONLY crash points. When the environment variable `FLEXNODE_CRASH_AT` names a point (e.g.
 * `journal:before-rename`, `journal:after-rename`), the process SIGKILLs itself there: no cleanup, no
 * finally blocks, exactly like a power cut or the OOM killer. The unit tests and the reliability suite use it
 * to prove that a killed run leaves state that the next run can load and resume. Never set it in production.
 */
export function crashPoint(name: string): void {
  if (process.env.FLEXNODE_CRASH_AT === name) process.kill(process.pid, 'SIGKILL');
}
