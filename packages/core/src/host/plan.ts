/** One change a dry run would make: `{step: 'containerd.config', action: 'write', target: '/etc/...', detail: '(mode 0644, 1.2 kB, new)'}`. */
export interface PlannedChange {
  step: string;
  action: string;
  target: string;
  detail?: string;
}

/** The one-line human description of a planned change: `write /etc/containerd/config.toml (mode 0644, 1.2 kB, new)`. */
export function describePlannedChange(change: PlannedChange): string {
  return [change.action, change.target, change.detail].filter((part) => part).join(' ');
}

/** `0644`. */
export function formatMode(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;
}

/** `512 B`, `1.2 kB`, `48.3 MB` (SI units, as `ls -h --si` would). */
export function formatSize(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = -1;
  do {
    value /= 1000;
    unit++;
  } while (value >= 1000 && unit < units.length - 1);
  return `${value.toFixed(1)} ${units[unit]}`;
}
