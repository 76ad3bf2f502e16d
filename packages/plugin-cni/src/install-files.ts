import type { Host } from '@flexnode/sdk';

/** Copies of the files of one unpacked release that run at once: each is fsynced, so the disk flushes overlap. */
const PARALLEL_COPIES = 4;

/**
 * Copy `<from>/<name>` to `<to>/<name>` (mode 0755) for each name, a few at a time, and return the installed
 * paths with their sha256 in the order of `names`. The hashes were computed while the release was unpacked and
 * carried over by the copy, so nothing is read again for them. After a failed copy no new one starts; the ones
 * under way finish before the first error is thrown (nothing keeps writing after the step has failed).
 */
export async function installFiles(host: Host, from: string, to: string, names: readonly string[]): Promise<Record<string, string>> {
  const hashes: string[] = new Array<string>(names.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < names.length) {
      const i = next++;
      const target = `${to}/${names[i]}`;
      try {
        await host.files.copyFrom(`${from}/${names[i]}`, target, { mode: 0o755 });
        hashes[i] = (await host.files.sha256(target))!;
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_COPIES, names.length) }, worker));
  if (failure) throw failure.error;
  return Object.fromEntries(names.map((name, i) => [`${to}/${name}`, hashes[i]!]));
}
