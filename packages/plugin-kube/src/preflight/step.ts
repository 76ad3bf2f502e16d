import { FlexnodeError, missing, ok, type FlexnodeConfig, type Host, type StepInstance } from '@flexnode/sdk';
import { kubePaths } from '../paths.js';
import { kubeSettings, PLUGIN_NAME } from '../settings.js';
import { describeFailures, runPreflight, type PreflightReadings, type PreflightReport } from './checks.js';
import { preflightTargets } from './endpoints.js';
import { effectiveProxy } from './probe.js';
import { rememberProbes } from './probe-memo.js';
import { hostView, machineReadings } from './readings.js';

/** The readings a preflight step takes: through its Host by default; tests inject any machine. */
export type ReadingsFactory = (host: Host, config: FlexnodeConfig) => PreflightReadings;

export const defaultReadings: ReadingsFactory = (host, config) => machineReadings(hostView(host, kubePaths(config).dropIn), effectiveProxy(config.proxy));

const summary = (report: PreflightReport) => {
  const warns = report.checks.filter((c) => c.status === 'warn').map((c) => `${c.name}: ${c.detail}`);
  const skipped = report.checks.filter((c) => c.status === 'skip').map((c) => c.name);
  return [
    `${report.checks.filter((c) => c.status === 'pass').length} passed`,
    ...(warns.length ? [`warnings: ${warns.join('; ')}`] : []),
    ...(skipped.length ? [`skipped: ${skipped.join(', ')}`] : []),
  ].join('; ');
};

/**
 * The operations of `kube.preflight` (steps.ts): the checks of `flexnode doctor`; install fails with every failure
 * listed, so bootstrap stops before anything changes.
 */
export function preflightOps({ host, config }: { host: Host; config: FlexnodeConfig }, readingsFor: ReadingsFactory = defaultReadings): StepInstance {
  const remembered = rememberProbes();
  const run = () => {
    const readings = readingsFor(host, config);
    const probing: PreflightReadings = Object.create(readings, { probe: { value: (url: string) => remembered(url, () => readings.probe(url)) } });
    return runPreflight(probing, preflightTargets(config), kubeSettings(config).skipPreflight);
  };
  return {
    async check() {
      const report = await run();
      if (!report.ok) return missing(`preflight failed: ${describeFailures(report)}`);
      return ok(summary(report));
    },
    async install() {
      const report = await run();
      for (const c of report.checks.filter((x) => x.status === 'warn')) host.log.warn(`preflight ${c.name}: ${c.detail}${c.fix ? ` (fix: ${c.fix})` : ''}`);
      if (report.ok) return;
      const failed = report.checks.filter((c) => c.status === 'fail');
      throw new FlexnodeError(
        'PREFLIGHT_FAILED',
        `${failed.length} preflight check(s) failed:\n${failed.map((c) => `  - ${c.name}: ${c.detail}\n    fix: ${c.fix ?? '-'}`).join('\n')}`,
        {
          hint: `fix them and run bootstrap again, or skip a check by name: "pluginConfig": {"${PLUGIN_NAME}": {"skipPreflight": ["${failed[0]!.name}"]}} (\`flexnode doctor\` shows every check)`,
        },
      );
    },
    async uninstall() {
      // Nothing to undo: preflight changes nothing.
    },
  };
}
