// `npm run reliability`: faults, crashes and bad input against the built CLI, as a table of figures. Exits 1 when
// any case fails (the regression gate). `node e2e/dist/reliability/run.js [area ...]` runs some areas only
// (crash, restore, artifacts, config, azure, lock, diskfull, secrets, injection, hardening, signals).
import { artifactArea } from './artifacts.js';
import { azureArea } from './azure.js';
import { configArea } from './bad-config.js';
import { concurrencyArea } from './concurrency.js';
import { crashAreas, reference } from './crash.js';
import { diskFullArea } from './disk-full.js';
import { hardeningArea } from './hardening.js';
import { injectionArea } from './injection.js';
import { signalsArea } from './signals.js';
import { baseConfig, removeWork, seconds, WORK, type Row } from './lib.js';
import { secretsArea } from './secrets.js';
import { startInfra } from './infra.js';

const AREAS = ['crash', 'restore', 'artifacts', 'config', 'azure', 'lock', 'diskfull', 'secrets', 'injection', 'hardening', 'signals'] as const;

async function main(): Promise<number> {
  const asked = process.argv.slice(2);
  const unknown = asked.filter((a) => !(AREAS as readonly string[]).includes(a));
  if (unknown.length) {
    process.stderr.write(`unknown area(s): ${unknown.join(', ')}; known: ${AREAS.join(', ')}\n`);
    return 2;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('reliability: needs root (private mount namespaces, tmpfs mounts, chown of seeded files)\n');
    return 1;
  }
  const want = (area: string) => asked.length === 0 || asked.includes(area);
  const started = Date.now();
  const parallel = Number(process.env.RELIABILITY_PARALLEL ?? 2);
  const infra = await startInfra();
  const config = baseConfig({ mirror: infra.mirror.url, pins: infra.pins });
  const rows: Row[] = [];
  const timings: string[] = [];
  const timed = async (name: string, fn: () => Promise<Row[]>) => {
    const t = Date.now();
    process.stderr.write(`reliability: ${name}...\n`);
    try {
      rows.push(...(await fn()));
    } catch (error) {
      rows.push({ area: name, name: 'area crashed', tried: 1, passed: 0, failures: [`${name}: ${(error as Error).stack ?? error}`] });
    }
    timings.push(`${name} ${seconds(Date.now() - t)}`);
  };
  try {
    if (want('crash') || want('restore') || want('lock') || want('signals')) {
      const { ref, rows: refRows } = await reference({ config, artifactNames: infra.artifactNames, parallel });
      rows.push(...refRows);
      if (want('crash') || want('restore')) {
        await timed('crash+restore', () => crashAreas({ config, artifactNames: infra.artifactNames, parallel }, ref));
      }
      if (want('lock')) await timed('lock', () => concurrencyArea(config, ref));
      if (want('signals')) await timed('signals', () => signalsArea(config, ref, parallel));
      await ref.golden.dispose();
    }
    if (want('artifacts')) await timed('artifacts', () => artifactArea(config, infra));
    if (want('config')) await timed('config', () => configArea(config, parallel));
    if (want('hardening')) await timed('hardening', () => hardeningArea(config, parallel));
    if (want('azure')) await timed('azure', () => azureArea(infra, parallel));
    if (want('injection')) await timed('injection', () => injectionArea(infra, config));
    if (want('diskfull')) await timed('diskfull', () => diskFullArea(config));
    // Last: it scans what every other area printed and wrote.
    if (want('secrets')) await timed('secrets', () => secretsArea(infra));
  } finally {
    await infra.stop();
    await removeWork();
  }
  const failed = rows.filter((r) => r.passed < r.tried);
  process.stdout.write(`${table(rows)}\n`);
  process.stdout.write(`\ntime: ${seconds(Date.now() - started)} (${timings.join(', ')}); scratch ${WORK}\n`);
  if (failed.length) {
    process.stdout.write(`\nFAILED: ${failed.length} row(s)\n`);
    for (const r of failed) for (const f of r.failures.length ? r.failures : [`${r.name}: ${r.tried - r.passed} failed`]) process.stdout.write(`  - ${f}\n`);
    return 1;
  }
  process.stdout.write(`\nreliability: all ${rows.reduce((n, r) => n + r.tried, 0)} case(s) passed\n`);
  return 0;
}

function table(rows: Row[]): string {
  const head = ['area', 'case', 'tried', 'passed', 'figures'];
  const body = rows.map((r) => [r.area, r.name, String(r.tried), r.passed === r.tried ? String(r.passed) : `${r.passed} FAIL`, r.figure ?? '']);
  const totals = new Map<string, [number, number]>();
  for (const r of rows) {
    const t = totals.get(r.area) ?? [0, 0];
    totals.set(r.area, [t[0] + r.tried, t[1] + r.passed]);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 2 || i === 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const sep = widths.map((w) => '-'.repeat(w)).join('  ');
  const summary = [...totals].map(([area, [t, p]]) => `${area} ${p}/${t}`).join(', ');
  return [line(head), sep, ...body.map(line), sep, `per area (passed/tried): ${summary}`].join('\n');
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`reliability: ${(error as Error).stack ?? error}\n`);
    process.exit(1);
  },
);
