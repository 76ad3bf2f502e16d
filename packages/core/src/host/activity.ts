/**
 * Where a run's time went on the Host: wall time per kind of work (downloads, unpacking, each command by name).
 * Steps run concurrently, so each kind keeps its intervals and counts their union: two downloads at once
 * count once. Reported with a bootstrap (RunReport.activity) and shown by the bench as its phases.
 */
export class Activity {
  private readonly spans = new Map<string, [number, number][]>();

  /** Run `fn`, counting its time under `kind`. */
  async time<T>(kind: string, fn: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await fn();
    } finally {
      const list = this.spans.get(kind) ?? this.spans.set(kind, []).get(kind)!;
      list.push([start, performance.now()]);
    }
  }

  /** Per kind: how many times, and the wall time they covered (ms, overlaps counted once). */
  summary(): Record<string, { count: number; ms: number }> {
    const out: Record<string, { count: number; ms: number }> = {};
    for (const [kind, list] of this.spans) {
      const sorted = [...list].sort((a, b) => a[0] - b[0]);
      let ms = 0;
      let [from, to] = sorted[0]!;
      for (const [s, e] of sorted.slice(1)) {
        if (s > to) {
          ms += to - from;
          [from, to] = [s, e];
        } else to = Math.max(to, e);
      }
      out[kind] = { count: list.length, ms: Math.round(ms + to - from) };
    }
    return out;
  }
}
