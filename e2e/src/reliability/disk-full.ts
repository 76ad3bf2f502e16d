// Area 7: disk full. In a private mount namespace (`unshare -m`), a small tmpfs over the state dir (journal,
// backups) or over a config dir (/etc/sysctl.d) is filled up; the run must fail saying the disk is full, the
// journal must stay the previous version byte for byte (parseable), the config file its previous content, no temp
// file may be left; once space is freed the run converges and an unbootstrap restores the machine.
import { fileURLToPath } from 'node:url';
import { CLI, Checks, excerpt, rowOf, runProgram, Sandbox, transcript, type Row } from './lib.js';

const CHILD = fileURLToPath(new URL('./disk-full-child.js', import.meta.url));

interface ChildRun {
  label: string;
  code: number | null;
  stdout: string;
  stderr: string;
}

async function inNamespace(sb: Sandbox, kind: 'state' | 'config'): Promise<{ runs: ChildRun[]; obs: Record<string, unknown>; error?: string }> {
  const r = await runProgram('unshare', [
    '-m',
    '--propagation',
    'private',
    '--',
    process.execPath,
    CHILD,
    JSON.stringify({ cli: CLI, root: sb.root, configPath: sb.configPath, kind }),
  ]);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    const out = JSON.parse(line) as { runs: ChildRun[]; obs: Record<string, unknown>; error?: string };
    for (const run of out.runs) transcript.push({ label: `disk-full ${kind} ${run.label}`, text: `${run.stdout}\n${run.stderr}` });
    return out;
  } catch {
    return { runs: [], obs: {}, error: `the namespace child failed (exit ${r.code}): ${r.stderr.slice(0, 400)}` };
  }
}

export async function diskFullArea(config: Record<string, unknown>): Promise<Row[]> {
  const state = new Checks('disk full under the state dir');
  const sb = await Sandbox.create('diskfull-state', config);
  const pristine = await sb.snapshot('restore');
  const a = await inNamespace(sb, 'state');
  state.ok(!a.error, a.error ?? '');
  const run = (out: typeof a, label: string) => out.runs.find((r) => r.label === label) ?? { label, code: -1, stdout: '', stderr: 'not run' };
  state.ok(run(a, 'first').code === 0, `first run exited ${run(a, 'first').code}: ${excerpt(run(a, 'first'))}`);
  const full = run(a, 'full');
  state.ok(full.code === 1, `the run on a full disk exited ${full.code} (expected 1): ${excerpt(full)}`);
  state.ok(/the disk is full/.test(`${full.stdout}${full.stderr}`), `the error does not say the disk is full: ${excerpt(full)}`);
  state.ok(a.obs.journalSame === true, 'the journal is not the previous version byte for byte');
  state.ok(a.obs.journalParses === true, 'the journal does not parse');
  state.ok(Array.isArray(a.obs.temps) && a.obs.temps.length === 0, `temp files left in the state dir: ${String(a.obs.temps)}`);
  state.ok(run(a, 'freed').code === 0, `the run after freeing space exited ${run(a, 'freed').code}: ${excerpt(run(a, 'freed'))}`);
  state.ok(run(a, 'unbootstrap').code === 0, `unbootstrap exited ${run(a, 'unbootstrap').code}: ${excerpt(run(a, 'unbootstrap'))}`);
  // Everything outside the tmpfs (sysctls, /etc) is back; the tmpfs itself is gone with the namespace.
  const afterA = await sb.snapshot('restore');
  state.ok(JSON.stringify(afterA) === JSON.stringify(pristine), 'the machine is not pristine after unbootstrap');
  await sb.dispose();

  const conf = new Checks('disk full under /etc/sysctl.d');
  const sb2 = await Sandbox.create('diskfull-config', config);
  const pristine2 = await sb2.snapshot('restore');
  const b = await inNamespace(sb2, 'config');
  conf.ok(!b.error, b.error ?? '');
  const full2 = run(b, 'full');
  conf.ok(full2.code === 1, `the run on a full disk exited ${full2.code} (expected 1): ${excerpt(full2)}`);
  conf.ok(/the disk is full/.test(`${full2.stdout}${full2.stderr}`), `the error does not say the disk is full: ${excerpt(full2)}`);
  conf.ok(b.obs.previousKept === true, 'the config file is not its previous version');
  conf.ok(Array.isArray(b.obs.temps) && b.obs.temps.length === 0, `temp files left: ${String(b.obs.temps)}`);
  conf.ok(b.obs.journalParses === true, 'the journal does not parse');
  conf.ok(run(b, 'freed').code === 0 && b.obs.replaced === true, `the run after freeing space did not converge: ${excerpt(run(b, 'freed'))}`);
  conf.ok(run(b, 'unbootstrap').code === 0, `unbootstrap exited ${run(b, 'unbootstrap').code}: ${excerpt(run(b, 'unbootstrap'))}`);
  conf.ok(b.obs.restored === true, 'unbootstrap did not restore the previous version of the file');
  conf.ok(b.obs.siteKept === true, "the site's own file changed");
  const afterB = await sb2.snapshot('restore');
  conf.ok(JSON.stringify(afterB) === JSON.stringify(pristine2), 'the machine is not pristine after unbootstrap');
  await sb2.dispose();
  return [
    rowOf('diskfull', 'state dir full: journal unchanged, "disk is full", recovers', [state]),
    rowOf('diskfull', 'config dir full: previous file kept, "disk is full", recovers', [conf]),
  ];
}
