import type { PlannedChange, RunReport, Session } from '@flexnode/core';
import { FlexnodeCommand } from './command.js';
import { commonFlags, verboseFlag } from './flags.js';
import { runPlan, withSession, type SessionFlags } from '../run/session.js';

/** Commands that open a Session on the machine (bootstrap, plan, unbootstrap, status). */
export abstract class SessionCommand extends FlexnodeCommand {
  static override baseFlags = { ...commonFlags, verbose: verboseFlag };

  /** See run/session.ts: open a session, run `fn`, always close it; signals end the run after the step in progress. */
  protected withSession<T>(flags: SessionFlags, command: string, allowPlaceholders: boolean, fn: (session: Session) => Promise<T>): Promise<T> {
    return withSession(this.io(), flags, command, allowPlaceholders, fn);
  }

  /** The dry run, shared by `plan` and `bootstrap --dry-run`: exits 1 where bootstrap would stop. */
  protected runPlan(flags: SessionFlags): Promise<RunReport & { changes: PlannedChange[] }> {
    return runPlan(this.io(), flags);
  }
}
