const NOTE_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** A note's name (see {@link HostNotes}) as given, or a TypeError: it becomes a file name in the state directory. */
export function checkNoteName(name: string): string {
  if (!NOTE_NAME.test(name)) throw new TypeError(`note name "${name}" must be lowercase letters, digits and '-' (at most 63)`);
  return name;
}
