import { Flags } from '@oclif/core';
import { ExitCode, FlexnodeError, maskedUrl } from '@flexnode/sdk';
import { FlexnodeCommand } from '../../base/command.js';

/** Fill a directory with every artifact the config's nodes download, laid out as `artifacts.mirror` reads it. */
export default class MirrorSync extends FlexnodeCommand {
  static override summary = 'Download every artifact the config needs into a mirror directory, verified, with a manifest.json.';
  static override description = [
    'Runs on any machine with access to the sources (not necessarily a node). Each bundled or installed plugin names',
    "what its steps download for the config (containerd, runc, the CNI plugins, the Kubernetes binaries, the Arc agent's",
    'package, ...); every file lands at <component>/v<version>/<file> under --to, verified against its pinned or',
    'published sha256 before it gets its name. Files are 0644 and directories 0755 whatever the umask. A re-run',
    'downloads only what is missing or wrong; a run where nothing lands (exit 1) leaves no manifest and no directory of its own. Serve the directory over HTTP(S) and point the nodes at it with',
    '"artifacts": {"mirror": "<url>"}. --from copies from another such mirror instead of the upstream hosts.',
    'Refused (exit 2, nothing written): a --to that is a file, a world-writable --to or a world-writable directory',
    'on the way to it (a sticky one like /tmp is fine when it holds a directory of yours), an unknown --arch.',
  ].join(' ');
  static override examples = [
    '<%= config.bin %> mirror sync --to /srv/flexnode-mirror --config fleet.json --arch amd64,arm64',
    '<%= config.bin %> mirror sync --to /srv/flexnode-mirror --from https://mirror.example.com/flexnode',
  ];

  static override flags = {
    to: Flags.string({ summary: 'The mirror directory (created when missing).', required: true }),
    arch: Flags.string({ summary: "Architectures to mirror, comma-separated: amd64, arm64 [default: this machine's].", multiple: true, delimiter: ',' }),
    from: Flags.string({ summary: 'Base URL of another mirror to copy from instead of the upstream hosts.' }),
  };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(MirrorSync);
    const mirror = await import('@flexnode/core/mirror');
    // Every input is checked before the first byte is written.
    const arches = flags.arch ? mirror.parseArches(flags.arch) : [mirror.hostArch()];
    const from = flags.from === undefined ? undefined : httpUrl(flags.from);
    const to = await mirror.checkMirrorTarget(flags.to);
    // A mirror talks to no Azure: the operator's secret may well be absent where it is made.
    const loaded = await this.loadConfig(flags, true, 'warn');
    const { resolveSteps } = await import('@flexnode/core/plugins');
    const view = await resolveSteps(await this.pluginSources(), loaded.config);
    for (const p of view.resolution.problems) this.warn(`plugin ${p.plugin} left out: ${p.reason}`);
    const planned = await mirror.planMirror(view.resolution.steps, loaded.config, arches);
    if (!this.jsonEnabled())
      this.log(`mirror: ${planned.length} artifact(s) for ${arches.join(', ')} into ${to}${from ? ` from ${mirror.withoutCredentials(from)}` : ''}`);

    const report = await mirror.syncMirror({
      to,
      planned,
      from,
      fetch: { proxy: loaded.config.proxy },
      onFile: this.jsonEnabled()
        ? undefined
        : (f) => this.log(`  ${f.status.padEnd(10)} ${f.file}  ${mb(f.size)}${f.status === 'present' ? '' : `  from ${f.source}`}`),
    });
    const counts = (s: string) => report.files.filter((f) => f.status === s).length;
    const data = {
      ok: report.failures.length === 0,
      to: report.to,
      from: report.from,
      arches,
      manifest: report.manifest,
      downloadedBytes: report.downloadedBytes,
      files: report.files,
      failures: report.failures,
      plugins: [...new Set(planned.map((p) => p.plugin))],
    };
    if (!this.jsonEnabled()) {
      for (const f of report.failures) this.logToStderr(`  FAILED     ${f.file}: ${f.message}`);
      this.log(
        `mirror: ${report.files.length} file(s) ok (${counts('downloaded')} downloaded, ${counts('replaced')} replaced, ${counts('present')} already present; ${mb(report.downloadedBytes)} fetched), ${report.failures.length} failed; ${report.manifest ? `${report.manifest} written` : 'nothing written'}`,
      );
    }
    if (report.failures.length > 0) {
      if (this.jsonEnabled()) this.logJson(data);
      this.exit(ExitCode.Failure);
    }
    return data;
  }
}

function httpUrl(value: string): string {
  try {
    const url = new URL(value);
    // A base that file paths are appended to, as artifacts.mirror: a query or fragment would end up mid-URL.
    if ((url.protocol === 'http:' || url.protocol === 'https:') && !/[?#]/.test(value)) return value.replace(/\/+$/, '');
  } catch {
    /* refused below */
  }
  throw new FlexnodeError('MIRROR_FROM_INVALID', `--from ${JSON.stringify(maskedUrl(value))} is not an http(s) base URL without a query or fragment`, {
    exitCode: ExitCode.Usage,
    hint: 'give the base URL of another mirror, e.g. https://mirror.example.com/flexnode',
  });
}

const mb = (bytes: number) => (bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${bytes} B`);
