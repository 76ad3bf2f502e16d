import { ConfigError } from '@flexnode/sdk';

const FIELD = 'kubernetes.urlTemplate';

/**
 * Upstream's `kubernetes.urlTemplate` filled as upstream fills it: Go's `fmt.Sprintf(template, version, arch)`
 * (AKSFlexNode pkg/components/kube_binaries: the URL of the node tarball `kubernetes-node-linux-<arch>.tar.gz`).
 * The verbs a string argument takes in Go (`%s`, `%v`, with an explicit index such as `%[2]s`) and `%%` are
 * filled; a template Go would fill with `%!s(MISSING)` or `%!(EXTRA ...)`, or with another verb, is refused
 * (exit 2), since the URL it makes cannot be the one meant.
 */
export function fillUrlTemplate(template: string, args: readonly string[]): string {
  let next = 0;
  let indexed = false;
  const used = new Set<number>();
  const out = template.replace(/%(?:\[(\d+)\])?([^[])?/g, (whole, index: string | undefined, verb: string | undefined) => {
    if (verb === '%' && index === undefined) return '%';
    if (verb !== 's' && verb !== 'v') {
      throw new ConfigError(`${FIELD} has "${whole}", which is not a string verb: use %s for the version and then the arch`, [
        { path: FIELD, message: "only %s (or %v, %[n]s) and %% are filled, as Go's fmt.Sprintf fills them" },
      ]);
    }
    if (index !== undefined) {
      indexed = true;
      next = Number(index) - 1;
    }
    if (next < 0 || next >= args.length) {
      throw new ConfigError(`${FIELD} "${template}" asks for more than the ${args.length} values it is filled with (version, arch)`, [
        { path: FIELD, message: 'Go would write %!s(MISSING) into the URL' },
      ]);
    }
    used.add(next);
    return args[next++]!;
  });
  if (!indexed && used.size < args.length) {
    throw new ConfigError(`${FIELD} "${template}" does not use both the version and the arch (%s twice, in that order)`, [
      { path: FIELD, message: 'Go would append %!(EXTRA ...) to the URL' },
    ]);
  }
  return out;
}
