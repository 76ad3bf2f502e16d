import type { PlannedChange, RunReport, Session } from '@flexnode/core';
import { FlexnodeCommand } from './command.js';
import { runPlan, withSession, type SessionFlags } from '../run/session.js';

/** Commands that open a Session on the machine (bootstrap, plan, unbootstrap, status). */
export abstract class SessionCommand extends FlexnodeCommand {
  /** See run/session.ts: open a session, run `fn`, always close it. */
  protected withSession<T>(flags: SessionFlags, command: string, allowPlaceholders: boolean, fn: (session: Session) => Promise<T>): Promise<T> {
    return withSession(this.io(), flags, command, allowPlaceholders, fn);
  }

  /** The dry run, shared by `plan` and `bootstrap --dry-run`. */
  protected runPlan(flags: SessionFlags): Promise<RunReport & { changes: PlannedChange[] }> {
    return runPlan(this.io(), flags);
  }
}
