import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';

/** What `flexnode plugins install ARG` installs, in the shape oclif's `plugins:preinstall` hook receives. */
export type PluginSpec = { type: 'npm'; name: string; tag: string } | { type: 'repo'; url: string };

// npm's rules for a package name: lowercase, URL-safe, optionally scoped, at most 214 characters.
const NPM_NAME = /^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;
const ARCHIVE = /\.(tgz|tar\.gz)$/;

/** A path the user wrote: `./x.tgz`, `../dir`, `/abs/x.tgz`, `~/x.tgz`, `file:...`, or a bare `x.tgz`. */
function localPath(input: string, cwd: string): string | undefined {
  if (input.startsWith('file:')) return resolve(cwd, input.slice('file:'.length).replace(/^\/\/(?=\/)/, ''));
  if (input === '.' || input === '..' || /^\.\.?\//.test(input) || isAbsolute(input)) return resolve(cwd, input);
  if (input.startsWith('~/')) return resolve(homedir(), input.slice(2));
  if (!input.includes('/') && ARCHIVE.test(input)) return resolve(cwd, input);
  return undefined;
}

/** A usage error (exit 2): the argument is not something `plugins install` can install. */
export class PluginSpecError extends Error {}

/**
 * Read an install argument. A local tarball or folder (`./x.tgz`, `/abs/x.tgz`, `./dir`, `file:...`) is a local
 * install: npm installs it from disk (`file:` spec), with no registry or GitHub lookup for the plugin itself. A
 * `git+ssh://` or `https://` URL (or `org/repo`, GitHub's shorthand) is a repository, anything else an npm name
 * with an optional `@version`.
 */
export async function parsePluginSpec(input: string, cwd = process.cwd()): Promise<PluginSpec> {
  const path = localPath(input, cwd);
  if (path !== undefined) {
    const found = await stat(path).catch(() => undefined);
    if (!found) throw new PluginSpecError(`${input}: no such file or folder (${path})`);
    if (found.isDirectory() ? !(await stat(resolve(path, 'package.json')).catch(() => undefined)) : !ARCHIVE.test(path)) {
      throw new PluginSpecError(`${input}: a local plugin is a folder with a package.json or an npm tarball (.tgz, .tar.gz)`);
    }
    return { type: 'repo', url: `file:${path}` };
  }
  if (input.startsWith('git+ssh://') || input.endsWith('.git') || /^[a-z][a-z0-9+.-]*:\/\//i.test(input)) return { type: 'repo', url: input };
  const [name = '', tag = 'latest'] = input.split(/(?<!^)@/);
  if (!name.startsWith('@') && name.includes('/')) return { type: 'repo', url: `https://github.com/${input}` };
  if (name.length > 214 || !NPM_NAME.test(name)) {
    throw new PluginSpecError(`"${input}" is neither an npm package name nor a path: write a local path as ./${input}`);
  }
  return { type: 'npm', name, tag };
}
