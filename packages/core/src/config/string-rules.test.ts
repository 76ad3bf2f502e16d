// Property test over the whole schema: every string field found by walking the JSON Schema (not a hand list)
// refuses each control character, and path and URL fields refuse what is not an absolute normalised path or an
// allowed URL: loadConfig throws a ConfigError (exit code 2) naming the field.
import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, ExitCode } from '@flexnode/sdk';
import { loadConfig } from './load.js';
import { configSchema } from './schema.js';
import { dotted, stringFields, type Segment, type StringField } from './schema-fields.js';
import { inferredKind, templateProblem } from './string-rules.js';
import { fullConfig } from './valid-config.fixture.js';
import { validateConfig } from './validate.js';

/** fullConfig() with `value` at `path` (parents created; a oneOf object branch replaced by the string). */
function configWith(path: Segment[], value: string): Record<string, any> {
  const config = fullConfig();
  let node: any = config;
  path.forEach((segment, i) => {
    if (i === path.length - 1) {
      node[segment] = value;
      return;
    }
    const next = path[i + 1];
    if (node[segment] === null || typeof node[segment] !== 'object') node[segment] = typeof next === 'number' ? [] : {};
    node = node[segment];
  });
  return config;
}

const kindOf = (field: StringField): string | undefined => field.schema['x-string'] ?? inferredKind(String(field.path.at(-1)));
/** A valid value of the field's kind, to which a bad character is added. */
const sampleOf = (field: StringField): string => {
  if (field.schema['x-placeholders']) return `https://dl.example/${(field.schema['x-placeholders'] as string[]).join('/')}`;
  const kind = kindOf(field);
  if (field.schema['x-url-origin']) return 'http://proxy.example:3128';
  return kind === 'path' ? '/var/lib/x' : kind?.endsWith('url') ? 'https://mirror.example/x' : 'value';
};

const CONTROL_CHARACTERS = [...Array.from({ length: 32 }, (_, i) => i), 0x7f, 0x85, 0x9b].map((c) => String.fromCharCode(c));

describe('config string rules: a property test over every string field of the schema', function () {
  this.timeout(60_000);
  const fields = stringFields(configSchema());
  let dir: string;
  before(async () => (dir = await mkdtemp(join(tmpdir(), 'flexnode-strings-'))));
  after(async () => rm(dir, { recursive: true, force: true }));

  /** loadConfig on the config: the ConfigError's exit code and the issue naming `path`. */
  let n = 0;
  async function refusal(config: unknown, path: string): Promise<{ exitCode?: number; message?: string; all: string }> {
    const file = join(dir, `c${n++}.json`);
    await writeFile(file, JSON.stringify(config), { mode: 0o600 });
    try {
      await loadConfig(file, { allowPlaceholders: true });
      return { all: 'accepted' };
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      const issue = error.issues.find((i) => i.path === path);
      return { exitCode: error.exitCode, message: issue?.message, all: JSON.stringify(error.issues) };
    }
  }

  it('finds the string fields by walking the schema (paths, URLs, maps, arrays, oneOf branches)', () => {
    const names = fields.map((f) => dotted(f.path));
    expect(fields.length).to.be.greaterThan(40);
    expect(names).to.include.members(['agent.logDir', 'proxy.noProxy', 'azure.arc.tags.k', 'node.taints[0]', 'runc.sha256', 'kubernetes.urlTemplate']);
  });

  it('the base config passes, so every refusal below is the mutation', () => {
    expect(validateConfig(fullConfig())).to.deep.equal([]);
  });

  it('every string field refuses every control character, exit 2, the field named, the value not echoed', async () => {
    const failures: string[] = [];
    for (const field of fields) {
      const path = dotted(field.path);
      for (const c of CONTROL_CHARACTERS) {
        const sample = sampleOf(field);
        const value = `${sample.slice(0, 3)}${c}${sample.slice(3)}`;
        const r = await refusal(configWith(field.path, value), path);
        if (r.exitCode !== ExitCode.Usage || !r.message) failures.push(`${path} with U+${c.charCodeAt(0).toString(16)}: ${r.all}`);
        else if (r.message.includes(value)) failures.push(`${path}: the message echoes the value`);
      }
    }
    expect(failures, failures.slice(0, 10).join('\n')).to.deep.equal([]);
  });

  it('every path field refuses relative paths and "." / ".." segments', async () => {
    const paths = fields.filter((f) => kindOf(f) === 'path');
    expect(paths.map((f) => dotted(f.path))).to.include.members(['agent.logDir', 'azure.servicePrincipal.clientSecretFile', 'paths.kubernetes.kubeletDir']);
    const failures: string[] = [];
    for (const field of paths) {
      for (const bad of ['var/log', './x', '/var/../../etc', '/var/log/..', '/var/./log', '/var//log', '..', '/var/log ']) {
        const r = await refusal(configWith(field.path, bad), dotted(field.path));
        if (r.exitCode !== ExitCode.Usage || !r.message) failures.push(`${dotted(field.path)} = ${JSON.stringify(bad)}: ${r.all}`);
      }
    }
    expect(failures, failures.join('\n')).to.deep.equal([]);
  });

  it('every URL field refuses other schemes, no host and whitespace; https-only fields refuse http', async () => {
    const urls = fields.filter((f) => kindOf(f)?.endsWith('url'));
    expect(urls.map((f) => dotted(f.path))).to.include.members(['artifacts.mirror', 'proxy.https', 'azure.endpoints.resourceManager', 'runc.url']);
    const failures: string[] = [];
    for (const field of urls) {
      const bads = [
        'ftp://mirror.example/x',
        'file:///etc/shadow',
        'javascript:alert(1)',
        'mirror.example/x',
        'https://',
        'https:///x',
        'https://a b/x',
        '//mirror.example/x',
      ];
      if (kindOf(field) === 'https-url') bads.push('http://mirror.example/x');
      for (const bad of bads) {
        const value = field.schema['x-placeholders'] ? `${bad}/${(field.schema['x-placeholders'] as string[]).join('/')}` : bad;
        const r = await refusal(configWith(field.path, value), dotted(field.path));
        if (r.exitCode !== ExitCode.Usage || !r.message) failures.push(`${dotted(field.path)} = ${JSON.stringify(value)}: ${r.all}`);
      }
      const ok = await refusal(configWith(field.path, sampleOf(field)), dotted(field.path));
      if (ok.message) failures.push(`${dotted(field.path)} refused its valid sample: ${ok.message}`);
    }
    expect(failures, failures.join('\n')).to.deep.equal([]);
  });

  it('a field named like a path or URL declares its kind in the schema (x-string), so editors and docs say so too', () => {
    const undeclared = fields.filter((f) => inferredKind(String(f.path.at(-1))) && !f.schema['x-string']).map((f) => dotted(f.path));
    expect(undeclared).to.deep.equal([]);
  });

  it('kubernetes.urlTemplate holds exactly the placeholders the schema declares, in order', async () => {
    const field = fields.find((f) => dotted(f.path) === 'kubernetes.urlTemplate')!;
    const declared = field.schema['x-placeholders'] as string[];
    expect(declared.length).to.be.greaterThan(0);
    const good = `https://dl.example/${declared.join('/')}`;
    expect((await refusal(configWith(field.path, good), 'kubernetes.urlTemplate')).message).to.equal(undefined);
    expect((await refusal(configWith(field.path, `${good}/100%%`), 'kubernetes.urlTemplate')).message).to.equal(undefined);
    for (const bad of [
      `https://dl.example/${declared.slice(1).join('/')}`,
      `${good}/%s`,
      `${good}/%d`,
      `${good}/%`,
      `https://dl.example/${declared.join('/')}%n`,
    ]) {
      const r = await refusal(configWith(field.path, bad), 'kubernetes.urlTemplate');
      expect(r.exitCode, bad).to.equal(ExitCode.Usage);
      expect(r.message, `${bad}: ${r.all}`).to.match(/placeholders|lone/);
    }
    // The rule is data: another declaration changes what is accepted.
    expect(templateProblem('https://x/%s/%s', ['%s', '%s'], ['https'])).to.equal(undefined);
    expect(templateProblem('https://x/%s/%s/%s', ['%s', '%s'], ['https'])).to.match(/placeholders/);
  });

  it('free-form pluginConfig: control characters anywhere (values and keys), and fields named like paths or URLs', async () => {
    const cases: [unknown, string, RegExp][] = [
      [{ '@org/plugin-x': { nested: { list: ['ok', 'bad\u001b[31m'] } } }, 'pluginConfig.@org/plugin-x.nested.list[1]', /control character/],
      [{ '@org/plugin-x': { cacheDir: 'relative/dir' } }, 'pluginConfig.@org/plugin-x.cacheDir', /absolute/],
      [{ '@org/plugin-x': { agent: { url: 'ftp://x/y' } } }, 'pluginConfig.@org/plugin-x.agent.url', /http\(s\) URL/],
      [{ '@org/plugin-x': { 'a\nb': 1 } }, 'pluginConfig.@org/plugin-x', /key that holds a control character/],
    ];
    for (const [pluginConfig, path, message] of cases) {
      const r = await refusal({ ...fullConfig(), pluginConfig }, path);
      expect(r.exitCode, path).to.equal(ExitCode.Usage);
      expect(r.message, `${path}: ${r.all}`).to.match(message);
    }
  });

  it('characters that are legitimate in a value (quotes, %, $, \\, ;, spaces) still pass where the field allows them', () => {
    const config = fullConfig();
    config.proxy = { https: 'http://us%24er:p%40ss@proxy.example:3128', noProxy: 'localhost, .svc;"$x"\\%n' };
    config.azure.arc.tags = { note: `it's "quoted" $HOME %h \\ ; & | <>` };
    expect(validateConfig(config)).to.deep.equal([]);
  });
});
