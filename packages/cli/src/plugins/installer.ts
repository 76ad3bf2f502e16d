import type { Config, Interfaces } from '@oclif/core';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** An installed or linked plugin as plugin-plugins records it in the data dir's package.json. */
export type InstalledEntry = Interfaces.UserPlugin | Interfaces.LinkedPlugin;

/**
 * The part of @oclif/plugin-plugins' installer (npm into the data dir, the list in its package.json) that the
 * flexnode plugins commands use. Its class is not among the package's exports, so it is loaded by file.
 */
export interface Installer {
  install(name: string, options?: { tag?: string }): Promise<Interfaces.Config>;
  link(path: string, options: { install: boolean }): Promise<Interfaces.Config>;
  uninstall(name: string): Promise<void>;
  update(): Promise<void>;
  list(): Promise<InstalledEntry[]>;
  hasPlugin(name: string): Promise<InstalledEntry | false>;
  add(...plugins: InstalledEntry[]): Promise<void>;
  remove(name: string): Promise<void>;
}

/** plugin-plugins' `Plugins` class for this CLI, with npm logging at `logLevel`. */
export async function loadInstaller(config: Config, logLevel: string): Promise<Installer> {
  const entry = createRequire(import.meta.url).resolve('@oclif/plugin-plugins');
  const { default: Plugins } = (await import(pathToFileURL(join(dirname(entry), 'plugins.js')).href)) as {
    default: new (options: { config: Config; logLevel: string }) => Installer;
  };
  return new Plugins({ config, logLevel });
}
