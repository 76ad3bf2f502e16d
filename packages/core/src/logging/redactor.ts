/** The text that replaces a secret wherever it would be written. */
export const REDACTED = '[REDACTED]';

/**
 * Knows the secrets of this run (client secret, tokens) and removes them from any text or value before it is
 * logged, printed or journaled. Matching is by value, so a secret is caught inside URLs, argv and error text.
 */
export class Redactor {
  private secrets: string[] = [];

  /** Register a secret; too-short values are ignored (they would redact ordinary words). */
  add(secret: string | undefined): void {
    if (!secret || secret.length < 6 || this.secrets.includes(secret)) return;
    this.secrets.push(secret);
    this.secrets.sort((a, b) => b.length - a.length);
  }

  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join(REDACTED);
    return out;
  }

  /** Redact strings anywhere in a JSON-like value (a copy is returned). */
  redactValue<T>(value: T): T {
    if (this.secrets.length === 0) return value;
    if (typeof value === 'string') return this.redact(value) as T;
    if (Array.isArray(value)) return value.map((v) => this.redactValue(v)) as T;
    if (value instanceof Error) return this.redact(value.stack ?? value.message) as T;
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.redactValue(v)])) as T;
    }
    return value;
  }
}
