/**
 * `systemctl is-active` for several units in one process. A query made while a batch is still collecting (until
 * the event loop's next check phase) joins it; one made after its batch was sent starts the next, so no answer is
 * older than its question. A status asks about containerd, the kubelet (twice) and kube-proxy from steps that run
 * concurrently, and an idle agent cycle does the same every interval: one systemctl where there were three or four,
 * each a fork of the whole Node process and a systemctl start-up.
 *
 * `query` runs `systemctl is-active UNIT...`, which prints one state per unit in the order given (systemctl(1));
 * a unit missing from its output (systemctl could not answer) reads as "".
 */
export function batchedUnitStates(query: (units: string[]) => Promise<{ stdout: string }>): (unit: string) => Promise<string> {
  let collecting: { units: Set<string>; states: Promise<Map<string, string>> } | undefined;
  return (unit) => {
    if (!collecting) {
      const units = new Set<string>();
      const states = new Promise<Map<string, string>>((resolve, reject) => {
        setImmediate(() => {
          collecting = undefined;
          const asked = [...units];
          query(asked).then(({ stdout }) => {
            const lines = stdout.split('\n');
            resolve(new Map(asked.map((u, i) => [u, (lines[i] ?? '').trim()])));
          }, reject);
        });
      });
      collecting = { units, states };
    }
    collecting.units.add(unit);
    return collecting.states.then((states) => states.get(unit) ?? '');
  };
}
