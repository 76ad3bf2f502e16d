import { FlexnodeError, ExitCode, type Arch, type FlexnodeConfig, type MirrorArtifact } from '@flexnode/sdk';
import type { ResolvedStep } from '../plugins/resolve.js';

export const ARCHES: readonly Arch[] = ['amd64', 'arm64'];

/** One file the mirror must hold, and who asked for it. */
export interface PlannedArtifact {
  artifact: MirrorArtifact;
  arch: Arch;
  step: string;
  plugin: string;
}

/** `--arch amd64,arm64`: each known, no duplicates; exit 2 otherwise. */
export function parseArches(list: readonly string[]): Arch[] {
  const arches = [...new Set(list.map((a) => a.trim()).filter(Boolean))];
  const unknown = arches.filter((a) => !ARCHES.includes(a as Arch));
  if (unknown.length > 0 || arches.length === 0) {
    throw new FlexnodeError(
      'MIRROR_ARCH_UNKNOWN',
      `--arch: ${unknown.length ? `unknown architecture ${unknown.map((a) => JSON.stringify(a)).join(', ')}` : 'no architecture given'}`,
      {
        exitCode: ExitCode.Usage,
        hint: `architectures: ${ARCHES.join(', ')} (comma-separated)`,
      },
    );
  }
  return arches as Arch[];
}

/** The architecture of this machine, in Go/Kubernetes spelling (the default of `--arch`). */
export function hostArch(): Arch {
  return process.arch === 'arm64' ? 'arm64' : 'amd64';
}

const SEGMENT = /^[A-Za-z0-9_+~-][A-Za-z0-9._+~-]*$/;
const SHA256 = /^[0-9a-f]{64}$/;

/** A relative path of plain segments (no `..`, no leading `/`, no hidden files): safe to join under the mirror. */
export function isSafeMirrorPath(path: string): boolean {
  const segments = path.split('/');
  return segments.length >= 2 && segments.every((s) => SEGMENT.test(s)) && path !== 'manifest.json';
}

function isHttpUrl(value: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

/** A plugin's hook returned something unusable: the plugin's fault, named with its step. */
function invalid(planned: Omit<PlannedArtifact, 'artifact'>, what: string): FlexnodeError {
  return new FlexnodeError('MIRROR_ARTIFACT_INVALID', `${planned.plugin} (step ${planned.step}, ${planned.arch}): ${what}`, {
    hint: 'this is a bug in the plugin: report it to its authors',
  });
}

function validate(artifact: MirrorArtifact, where: Omit<PlannedArtifact, 'artifact'>): MirrorArtifact {
  const name = typeof artifact?.name === 'string' && artifact.name ? artifact.name : undefined;
  if (!name) throw invalid(where, 'an artifact has no name');
  if (typeof artifact.url !== 'string' || !isHttpUrl(artifact.url)) throw invalid(where, `${name}: url ${JSON.stringify(artifact.url)} is not an http(s) URL`);
  if (typeof artifact.mirrorPath !== 'string' || !isSafeMirrorPath(artifact.mirrorPath)) {
    throw invalid(where, `${name}: mirrorPath ${JSON.stringify(artifact.mirrorPath)} is not a relative <component>/v<version>/<file> path`);
  }
  const sha256 = artifact.sha256?.toLowerCase();
  if (sha256 !== undefined && !SHA256.test(sha256)) throw invalid(where, `${name}: sha256 ${JSON.stringify(artifact.sha256)} is not 64 hex digits`);
  if (artifact.sha256Url !== undefined && !isHttpUrl(artifact.sha256Url))
    throw invalid(where, `${name}: sha256Url ${JSON.stringify(artifact.sha256Url)} is not an http(s) URL`);
  if (sha256 === undefined && artifact.sha256Url === undefined) throw invalid(where, `${name}: neither a sha256 nor a sha256Url: it cannot be verified`);
  if (artifact.sha256MirrorPath !== undefined) {
    if (artifact.sha256Url === undefined) throw invalid(where, `${name}: sha256MirrorPath without a sha256Url to fetch it from`);
    if (!isSafeMirrorPath(artifact.sha256MirrorPath) || artifact.sha256MirrorPath === artifact.mirrorPath) {
      throw invalid(where, `${name}: sha256MirrorPath ${JSON.stringify(artifact.sha256MirrorPath)} is not a relative path beside the artifact`);
    }
  }
  return { ...artifact, ...(sha256 ? { sha256 } : {}) };
}

/**
 * Every artifact the resolved steps download for `config` on each of `arches`, through each step's
 * `artifacts` hook (steps left out by the config or by another provider are not asked). One entry per mirror
 * path; two steps asking for one path with different pinned checksums is a conflict (exit 2).
 */
export async function planMirror(steps: readonly ResolvedStep[], config: FlexnodeConfig, arches: readonly Arch[]): Promise<PlannedArtifact[]> {
  const byPath = new Map<string, PlannedArtifact>();
  for (const { definition, plugin } of steps) {
    if (!definition.artifacts) continue;
    for (const arch of arches) {
      const where = { arch, step: definition.id, plugin: plugin.name };
      const listed = await definition.artifacts(config, arch);
      if (!Array.isArray(listed)) throw invalid(where, 'the artifacts hook did not return an array');
      for (const raw of listed) {
        const artifact = validate(raw, where);
        const seen = byPath.get(artifact.mirrorPath);
        if (seen && seen.artifact.sha256 && artifact.sha256 && seen.artifact.sha256 !== artifact.sha256) {
          throw new FlexnodeError(
            'MIRROR_CONFLICT',
            `${artifact.mirrorPath} is wanted with two checksums: ${seen.artifact.sha256} (${seen.step}, ${seen.arch}) and ${artifact.sha256} (${definition.id}, ${arch})`,
            { exitCode: ExitCode.Usage, hint: 'the config pins one version with two checksums: fix the sha256 values' },
          );
        }
        if (!seen || (!seen.artifact.sha256 && artifact.sha256)) byPath.set(artifact.mirrorPath, { artifact, ...where });
      }
    }
  }
  return [...byPath.values()].sort((a, b) => a.artifact.mirrorPath.localeCompare(b.artifact.mirrorPath));
}
