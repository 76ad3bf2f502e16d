import type { Change } from '@flexnode/sdk';
import { describeUndo } from '../host/changes.js';
import type { Journal } from '../state/journal.js';

/** One step's part of what unbootstrap would undo. */
export interface StepUndo {
  id: string;
  plugin: string;
  /** The journal's status of the step: installed, installing (a run stopped in it), failed, uninstalling. */
  status: string;
  /** Newest first, as the uninstall reverts them. */
  undo: { action: string; target: string; detail?: string }[];
}

/** Fields of a step's own records worth showing (which resource, which unit): never the whole record. */
const NAMING_FIELDS = ['resourceId', 'id', 'name', 'machineName', 'node', 'unit', 'path', 'role', 'scope'];

/**
 * What `flexnode unbootstrap` would undo, read from the journal alone: the journaled steps newest first, and each
 * one's changes as its uninstall reverts them. A step's own records (an Azure resource, a Node) are undone by the
 * step's code, which this does not run: they are named, with the fields that say which.
 */
export function undoPlan(journal: Journal): StepUndo[] {
  return journal
    .entries()
    .reverse()
    .map(([id, record]) => ({ id, plugin: record.plugin, status: record.status, undo: [...record.changes].reverse().map(describe) }));
}

function describe(change: Change): StepUndo['undo'][number] {
  if (change.kind === 'custom') {
    const naming = NAMING_FIELDS.map((k) => change.data[k])
      .filter((v): v is string => typeof v === 'string')
      .slice(0, 2);
    return { action: 'undo (by the step)', target: change.type, ...(naming.length ? { detail: naming.join(' ') } : {}) };
  }
  const [action, target, detail] = describeUndo(change);
  return { action, target, ...(detail ? { detail } : {}) };
}
