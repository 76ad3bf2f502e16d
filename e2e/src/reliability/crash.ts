// Areas 1 and 2: crash anywhere, and exact restore. The bootstrap is SIGKILLed (FLEXNODE_CRASH_AT, core's crash
// hook) at every step boundary and inside long steps; the re-run must converge to the tree of an uninterrupted
// run, and an unbootstrap (of the converged machine, and of the killed one as it was left) must give back the
// pristine tree: content, mode and owner of every file, the sysctls under <root>/proc/sys, no unit enablement.
import {
  Checks,
  diffTrees,
  excerpt,
  journalProblem,
  normalJournal,
  pool,
  rowOf,
  SANDBOX_ONLY,
  Sandbox,
  SEEDED_SYSCTLS,
  seconds,
  SITE_CONTAINERD_CONFIG,
  type CliRun,
  type Row,
} from './lib.js';
import { readFileSync, existsSync, readdirSync, statSync } from 'node:fs';

export interface CrashContext {
  config: Record<string, unknown>;
  /** Artifact names as the Host sees them (`runc 1.1.12 (amd64)`), for the download cut points. */
  artifactNames: string[];
  parallel: number;
}

/** The steps a sandbox bootstrap installs, in run order (kube.preflight only checks). */
export const INSTALLED_STEPS = [
  'kube.kernel-modules',
  'runc.binary',
  'kube.sysctl',
  'cni.plugins',
  'cni.bridge-config',
  'containerd.binaries',
  'containerd.config',
  'containerd.service',
];

export interface Reference {
  tree: Record<string, string>;
  journal: string;
  pristine: Record<string, string>;
  golden: Sandbox;
  ms: number;
}

const bootstrap = (sb: Sandbox, env: Record<string, string> = {}) => sb.run(['bootstrap', '--only', SANDBOX_ONLY], { env });
const unbootstrap = (sb: Sandbox, env: Record<string, string> = {}) => sb.run(['unbootstrap'], { env });

/** Checks that a machine is back to pristine: the whole tree, then sysctls, units and the site's file named. */
async function checkPristine(c: Checks, sb: Sandbox, pristine: Record<string, string>, what: string): Promise<void> {
  const tree = await sb.snapshot('restore');
  c.ok(JSON.stringify(tree) === JSON.stringify(pristine), `${what}: tree differs from pristine: ${diffTrees(pristine, tree).join(', ')}`);
  for (const [key, value] of Object.entries(SEEDED_SYSCTLS)) {
    const now = existsSync(sb.path(`/proc/sys/${key}`)) ? readFileSync(sb.path(`/proc/sys/${key}`), 'utf8').trim() : '(absent)';
    c.ok(now === value, `${what}: sysctl ${key} is ${now}, was ${value}`);
  }
  c.ok(!existsSync(sb.path('/proc/sys/net/bridge/bridge-nf-call-ip6tables')), `${what}: a sysctl flexnode created is still there`);
  const wants = sb.path('/etc/systemd/system/multi-user.target.wants');
  c.ok(!existsSync(wants) || readdirSync(wants).length === 0, `${what}: unit enablement symlinks left in ${wants}`);
  const site = sb.path(`/${SITE_CONTAINERD_CONFIG.path}`);
  const st = existsSync(site) ? statSync(site) : undefined;
  c.ok(
    st &&
      (st.mode & 0o7777) === SITE_CONTAINERD_CONFIG.mode &&
      st.uid === SITE_CONTAINERD_CONFIG.uid &&
      readFileSync(site, 'utf8') === SITE_CONTAINERD_CONFIG.content,
    `${what}: the site's ${SITE_CONTAINERD_CONFIG.path} did not come back (content, mode 0640, owner 1234)`,
  );
  c.ok(!existsSync(sb.path('/var/lib/flexnode')), `${what}: flexnode's state dir is left behind`);
}

/** The uninterrupted run everything is compared with; also area 2's "unbootstrap after a full bootstrap". */
export async function reference(ctx: CrashContext): Promise<{ ref: Reference; rows: Row[] }> {
  const pristineBox = await Sandbox.create('pristine', ctx.config);
  const pristine = await pristineBox.snapshot('restore');
  await pristineBox.dispose();

  const golden = await Sandbox.create('golden', ctx.config);
  const c = new Checks('reference bootstrap');
  const run = await bootstrap(golden);
  c.ok(run.code === 0, `bootstrap exited ${run.code}: ${excerpt(run)}`);
  const tree = await golden.snapshot('converge');
  const journal = normalJournal(await golden.journal());
  const again = await bootstrap(golden);
  c.ok(again.code === 0 && /0 step\(s\) changed/.test(again.stdout), `a re-run changed something: ${excerpt(again)}`);
  c.ok(JSON.stringify(await golden.snapshot('converge')) === JSON.stringify(tree), 're-run changed the tree');
  c.ok(golden.leftovers().length === 0, `temp files left: ${golden.leftovers().join(', ')}`);

  // Area 2, the plain case: unbootstrap a full bootstrap (on a copy: the golden machine serves the unbootstrap cuts).
  const restore = new Checks('unbootstrap after a full bootstrap');
  await golden.scan();
  const copy = await golden.copy('full-restore');
  const un = await unbootstrap(copy);
  restore.ok(un.code === 0, `unbootstrap exited ${un.code}: ${excerpt(un)}`);
  await checkPristine(restore, copy, pristine, 'after unbootstrap');
  const twice = await unbootstrap(copy);
  restore.ok(twice.code === 0, `a second unbootstrap exited ${twice.code}: ${excerpt(twice)}`);
  await checkPristine(restore, copy, pristine, 'after a second unbootstrap');
  await copy.dispose();
  return {
    ref: { tree, journal, pristine, golden, ms: run.ms },
    rows: [
      rowOf('crash', 'uninterrupted bootstrap, re-run changes nothing', [c], seconds(run.ms)),
      rowOf('restore', 'unbootstrap after a full bootstrap (twice)', [restore]),
    ],
  };
}

/** Every cut point of a bootstrap: step boundaries, then points inside long steps and inside the state writes. */
export function bootstrapCuts(artifactNames: string[]): string[] {
  return [
    ...INSTALLED_STEPS.flatMap((id) => [`step:${id}:before-install`, `step:${id}:after-install`]),
    ...artifactNames.map((name) => `download:${name}:mid`),
    'unpack:entry#2',
    'unpack:entry#9',
    'file:before-rename#1',
    'file:before-rename#8',
    'journal:before-rename#3',
    'journal:after-rename#9',
    'journal:before-rename#18',
  ];
}

/** Cut points of an unbootstrap. */
export function unbootstrapCuts(): string[] {
  return [
    ...INSTALLED_STEPS.map((id) => `step:${id}:before-uninstall`),
    'step:containerd.config:after-uninstall',
    'step:cni.plugins:after-uninstall',
    'revert:after-undo#1',
    'revert:after-undo#5',
    'revert:after-undo#14',
    'journal:before-rename#4',
    'journal:after-rename#11',
  ];
}

/** What differs between two normalised journals (see normalJournal), briefly. */
function journalDifference(expected: string, actual: string): string {
  const parse = (text: string) => (text.startsWith('{') ? (JSON.parse(text) as { dirs: string[]; steps: [string, ...unknown[]][] }) : { dirs: [], steps: [] });
  const [e, a] = [parse(expected), parse(actual)];
  const out: string[] = [];
  const missing = e.dirs.filter((d) => !a.dirs.includes(d));
  const extra = a.dirs.filter((d) => !e.dirs.includes(d));
  if (missing.length || extra.length) out.push(`dirs missing [${missing.join(', ')}] extra [${extra.join(', ')}]`);
  const byId = (list: [string, ...unknown[]][]) => new Map(list.map((s) => [s[0], JSON.stringify(s)]));
  const [es, as] = [byId(e.steps), byId(a.steps)];
  for (const id of new Set([...es.keys(), ...as.keys()]))
    if (es.get(id) !== as.get(id)) out.push(`${id}: expected ${es.get(id) ?? '(absent)'}, got ${as.get(id) ?? '(absent)'}`);
  return out.join('; ').slice(0, 1500);
}

const killed = (r: CliRun) => r.code === null && r.signal === 'SIGKILL';

export interface CutResult {
  cut: string;
  reached: boolean;
  converged: Checks;
  restoredAfterResume: Checks;
  restoredAfterKill: Checks;
  convergeMs: number;
}

/** One bootstrap cut: kill there, branch the machine; resume one copy (converge, then unbootstrap), unbootstrap the other. */
async function bootstrapCut(ctx: CrashContext, ref: Reference, cut: string): Promise<CutResult> {
  const converged = new Checks(`bootstrap killed at ${cut}`);
  const restoredAfterResume = new Checks(`unbootstrap after resume from ${cut}`);
  const restoredAfterKill = new Checks(`unbootstrap right after kill at ${cut}`);
  const a = await Sandbox.create(`cut-${cut}`, ctx.config);
  const first = await bootstrap(a, { FLEXNODE_CRASH_AT: cut });
  const reached = killed(first);
  converged.ok(reached, `cut point not reached (exit ${first.code}): ${excerpt(first, 200)}`);
  let problem: string | undefined;
  try {
    problem = journalProblem(await a.journal());
  } catch (error) {
    problem = `not parseable: ${(error as Error).message}`;
  }
  converged.ok(!problem, `journal after the kill: ${problem}`);
  const b = await a.copy(`cut-${cut}-b`);

  const resume = await bootstrap(a);
  converged.ok(resume.code === 0, `re-run exited ${resume.code}: ${excerpt(resume)}`);
  const tree = await a.snapshot('converge');
  converged.ok(JSON.stringify(tree) === JSON.stringify(ref.tree), `tree differs from the uninterrupted run: ${diffTrees(ref.tree, tree).join(', ')}`);
  const journal = normalJournal(await a.journal().catch(() => undefined));
  converged.ok(journal === ref.journal, `journal differs from the uninterrupted run: ${journalDifference(ref.journal, journal)}`);
  converged.ok(a.leftovers().length === 0, `temp files left after the re-run: ${a.leftovers().join(', ')}`);
  const staging = a.path('/var/lib/flexnode/staging');
  converged.ok(
    !existsSync(staging) || readdirSync(staging).length === 0,
    `staging not empty after the re-run: ${existsSync(staging) ? readdirSync(staging).join(', ') : ''}`,
  );

  await a.scan();
  await b.scan();
  const un = await unbootstrap(a);
  restoredAfterResume.ok(un.code === 0, `unbootstrap exited ${un.code}: ${excerpt(un)}`);
  await checkPristine(restoredAfterResume, a, ref.pristine, 'after resume + unbootstrap');

  const unKilled = await unbootstrap(b);
  restoredAfterKill.ok(unKilled.code === 0, `unbootstrap exited ${unKilled.code}: ${excerpt(unKilled)}`);
  await checkPristine(restoredAfterKill, b, ref.pristine, 'after kill + unbootstrap');
  await a.dispose();
  await b.dispose();
  return { cut, reached, converged, restoredAfterResume, restoredAfterKill, convergeMs: resume.ms };
}

/** One unbootstrap cut: a copy of the bootstrapped machine, unbootstrap killed there, then run again. */
async function unbootstrapCut(ref: Reference, cut: string): Promise<{ checks: Checks; ms: number }> {
  const c = new Checks(`unbootstrap killed at ${cut}`);
  const sb = await ref.golden.copy(`uncut-${cut}`);
  const first = await unbootstrap(sb, { FLEXNODE_CRASH_AT: cut });
  await sb.scan();
  c.ok(killed(first), `cut point not reached (exit ${first.code}): ${excerpt(first, 200)}`);
  let problem: string | undefined;
  try {
    problem = journalProblem(await sb.journal());
  } catch (error) {
    problem = `not parseable: ${(error as Error).message}`;
  }
  c.ok(!problem, `journal after the kill: ${problem}`);
  const again = await unbootstrap(sb);
  c.ok(again.code === 0, `re-run exited ${again.code}: ${excerpt(again)}`);
  await checkPristine(c, sb, ref.pristine, 'after the re-run');
  await sb.dispose();
  return { checks: c, ms: again.ms };
}

export async function crashAreas(ctx: CrashContext, ref: Reference): Promise<Row[]> {
  const cuts = bootstrapCuts(ctx.artifactNames);
  const results = await pool(cuts, ctx.parallel, (cut) => bootstrapCut(ctx, ref, cut));
  const unResults = await pool(unbootstrapCuts(), ctx.parallel, (cut) => unbootstrapCut(ref, cut));

  const boundary = results.filter((r) => r.cut.startsWith('step:'));
  const inside = results.filter((r) => !r.cut.startsWith('step:'));
  const maxMs = Math.max(...results.map((r) => r.convergeMs), ...unResults.map((r) => r.ms));
  const convergedCount = results.filter((r) => r.converged.passed).length + unResults.filter((r) => r.checks.passed).length;
  const tried = results.length + unResults.length;
  return [
    rowOf(
      'crash',
      `bootstrap killed at step boundaries (${boundary.length})`,
      boundary.map((r) => r.converged),
      `max ${seconds(Math.max(...boundary.map((r) => r.convergeMs)))}`,
    ),
    rowOf(
      'crash',
      `bootstrap killed inside steps/writes (${inside.length})`,
      inside.map((r) => r.converged),
      `max ${seconds(Math.max(...inside.map((r) => r.convergeMs)))}`,
    ),
    rowOf(
      'crash',
      `unbootstrap killed (${unResults.length}), re-run to pristine`,
      unResults.map((r) => r.checks),
      `max ${seconds(Math.max(...unResults.map((r) => r.ms)))}`,
    ),
    { area: 'crash', name: 'cut points tried / converged', tried, passed: convergedCount, figure: `max converge ${seconds(maxMs)}`, failures: [] },
    rowOf(
      'restore',
      `unbootstrap after kill + resume (${results.length})`,
      results.map((r) => r.restoredAfterResume),
    ),
    rowOf(
      'restore',
      `unbootstrap right after a kill (${results.length})`,
      results.map((r) => r.restoredAfterKill),
    ),
  ];
}
