import { missing, ok, type CheckResult, type Host, type StepInstance } from '@flexnode/sdk';
import { records } from '../util.js';

export const FSTAB = '/etc/fstab';
export const PROC_SWAPS = '/proc/swaps';
/** Custom journal record: a swap device or file flexnode turned off, so uninstall turns it on again. */
export const SWAP_RECORD = 'swap-off';
/** Prefix of an fstab line flexnode commented out (the journaled file write restores the original anyway). */
export const FSTAB_MARK = '#flexnode-swapoff# ';

/** Active swap areas from /proc/swaps (first column; the kernel escapes spaces and the like as \ooo). */
export function parseProcSwaps(text: string): string[] {
  return text
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean)
    .map((name) => name.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8))));
}

/** Indexes of the fstab lines that turn swap on (type `swap`, not commented, not `noauto`). */
export function fstabSwapLines(text: string): number[] {
  const out: number[] = [];
  text.split('\n').forEach((line, i) => {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 3 || fields[0]!.startsWith('#')) return;
    if (fields[2] !== 'swap') return;
    if ((fields[3] ?? '').split(',').includes('noauto')) return;
    out.push(i);
  });
  return out;
}

/** The fstab with its swap lines commented out. */
export function commentOutSwap(text: string): string {
  const lines = text.split('\n');
  for (const i of fstabSwapLines(text)) lines[i] = `${FSTAB_MARK}${lines[i]}`;
  return lines.join('\n');
}

/**
 * The operations of `kube.swap` (steps.ts): each active swap area turned off (journaled first) and the swap lines of
 * /etc/fstab commented out; live swap only on the machine's own root.
 */
export function swapOps({ host }: { host: Host }): StepInstance {
  const live = host.root === '/';
  const activeSwap = async () => (live ? parseProcSwaps((await host.files.readText(PROC_SWAPS)) ?? '') : []);

  const check = async (): Promise<CheckResult> => {
    const active = await activeSwap();
    if (active.length > 0) return missing(`swap is on: ${active.join(', ')}`);
    const fstab = (await host.files.readText(FSTAB)) ?? '';
    const lines = fstabSwapLines(fstab);
    if (lines.length > 0) return missing(`${FSTAB} turns swap on at boot (line ${lines.map((i) => i + 1).join(', ')})`);
    return ok(live ? 'no active swap, none in /etc/fstab' : 'none in /etc/fstab (live swap not checked under a sandbox root)');
  };

  return {
    check,
    async install() {
      for (const device of await activeSwap()) {
        // Journal first: a crash right after swapoff still leaves the record that turns it on again.
        await host.changes.record(SWAP_RECORD, { device });
        await host.exec.run('swapoff', [device], { describe: `swap off ${device}`, timeoutMs: 10 * 60_000 });
      }
      const fstab = await host.files.readText(FSTAB);
      if (fstab !== undefined && fstabSwapLines(fstab).length > 0) {
        const info = await host.files.stat(FSTAB);
        await host.files.write(FSTAB, commentOutSwap(fstab), { mode: (info?.mode ?? 0o644) & 0o7777, uid: info?.uid, gid: info?.gid });
        // systemd generates .swap units from fstab: drop them.
        if (await host.systemd.available()) await host.systemd.daemonReload();
      }
    },
    async uninstall() {
      await host.changes.revert(); // /etc/fstab back as it was
      const turnedOff = records<{ device: string }>(host, SWAP_RECORD).reverse();
      for (const { device } of turnedOff) {
        const active = await activeSwap();
        if (live && !active.includes(device)) {
          if ((await host.files.stat(device)) !== undefined) await host.exec.run('swapon', [device], { describe: `swap on ${device} again` });
          else host.log.warn(`swap area ${device} no longer exists: not turned on again`);
        }
        await host.changes.forget(SWAP_RECORD, (d) => d.device === device);
      }
      if (await host.systemd.available()) await host.systemd.daemonReload();
    },
  };
}
