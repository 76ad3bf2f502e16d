// loadConfig against inputs that must not leak, hang or pass: syntax errors next to a secret, files that are not
// JSON, devices and fifos, and a service principal whose secret the run could not find.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@flexnode/sdk';
import { loadConfig } from './load.js';
import { fieldAt } from './parse.js';
import { fullConfig } from './valid-config.fixture.js';

const SECRET = 'Zq8~veryS3cretValue_never_printed';

describe('loadConfig: errors never echo input, the credential is checked early', function () {
  this.timeout(20_000);
  let dir: string;
  before(async () => (dir = await mkdtemp(join(tmpdir(), 'flexnode-load-'))));
  after(() => rm(dir, { recursive: true, force: true }));

  const failure = async (path: string, options: Parameters<typeof loadConfig>[1] = {}) => {
    const error = await loadConfig(path, { allowPlaceholders: true, env: {}, ...options }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error, path).to.be.instanceOf(ConfigError);
    return error as ConfigError;
  };

  it('a syntax error next to the secret: line, column and field, no text of the file', async () => {
    const good = JSON.stringify(fullConfig(), null, 2).replace('s3cr3t-value-never-logged', SECRET);
    const broken = [
      good.replace(`"${SECRET}"`, `"${SECRET}" "x"`), // missing comma after the secret
      good.replace(`"${SECRET}"`, `"${SECRET}\n"`), // a raw newline inside the string
      good.replace(`"${SECRET}"`, `'${SECRET}'`), // single quotes
      good.slice(0, good.indexOf(SECRET) + 10), // cut inside the secret
    ];
    for (const [i, text] of broken.entries()) {
      const file = join(dir, `broken-${i}.json`);
      await writeFile(file, text, { mode: 0o600 });
      const error = await failure(file);
      const shown = `${error.message} ${error.hint ?? ''} ${JSON.stringify(error.issues)}`;
      expect(shown, `case ${i}`).to.not.include(SECRET.slice(0, 6));
      expect(error.message, `case ${i}`).to.match(/is not valid JSON: .* at line \d+, column \d+/);
      expect(error.exitCode).to.equal(2);
    }
    const withField = await failure(join(dir, 'broken-0.json'));
    expect(withField.message).to.include('in azure.servicePrincipal.clientSecret');
  });

  it('a file that is not JSON (a shadow file, a binary, a symlink to one, an empty file) is named as such without its bytes', async () => {
    await writeFile(join(dir, 'shadow'), 'root:$y$j9T$Secr3tHashBytes:19000:0:99999:7:::\n', { mode: 0o600 });
    await writeFile(join(dir, 'binary'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00, 0xff, 0xfe]));
    await symlink(join(dir, 'shadow'), join(dir, 'config-link.json'));
    await writeFile(join(dir, 'empty.json'), '   \n');
    await writeFile(join(dir, 'jsonc.json'), `// our edge nodes\n${JSON.stringify(fullConfig())}`, { mode: 0o600 });
    for (const [name, message] of [
      ['jsonc.json', /starts with a comment, which JSON does not allow/],
      ['shadow', /not a JSON document/],
      ['binary', /not a text file/],
      ['config-link.json', /not a JSON document/],
      ['empty.json', /is empty/],
    ] as const) {
      const error = await failure(join(dir, name));
      expect(error.message, name).to.match(message);
      expect(error.message, name).to.not.match(/Secr3t|root:|ELF/);
      expect(error.exitCode).to.equal(2);
    }
  });

  it('a device, a fifo or a directory as --config is refused at once (no hang, no read of /dev/zero)', async () => {
    execFileSync('mkfifo', [join(dir, 'fifo.json')]);
    await mkdir(join(dir, 'dir.json'));
    for (const path of ['/dev/zero', join(dir, 'fifo.json'), join(dir, 'dir.json')]) {
      const started = Date.now();
      const error = await failure(path);
      expect(error.message, path).to.match(/not a regular file/);
      expect(Date.now() - started).to.be.lessThan(2000);
    }
  });

  it('a service principal without any secret fails validation (exit 2), reading the environment as the run would', async () => {
    const config = fullConfig();
    delete config.azure.servicePrincipal.clientSecret;
    const file = join(dir, 'no-secret.json');
    await writeFile(file, JSON.stringify(config), { mode: 0o600 });
    const error = await failure(file);
    expect(error.issues.map((i) => i.path)).to.deep.equal(['azure.servicePrincipal']);
    expect(error.message).to.match(/no secret: set clientSecretFile .*AZURE_CLIENT_SECRET/);
    // status and unbootstrap load it with a warning instead (they must work once the secret is gone).
    const warned = await loadConfig(file, { allowPlaceholders: true, env: {}, credential: 'warn' });
    expect(warned.warnings.join('\n')).to.match(/azure\.servicePrincipal: has a clientId but no secret/);
    // The run would take AZURE_CLIENT_SECRET: so does validation.
    expect((await loadConfig(file, { allowPlaceholders: true, env: { AZURE_CLIENT_SECRET: 'x' } })).config.azure.servicePrincipal?.clientId).to.be.a('string');
  });

  it('clientSecretFile is read under --root with the safe reader: missing, /dev/zero, a fifo are refused, a good file passes', async () => {
    const root = join(dir, 'root');
    await mkdir(join(root, 'etc/flexnode'), { recursive: true });
    execFileSync('mkfifo', [join(root, 'etc/flexnode/fifo')]);
    await symlink('/dev/zero', join(root, 'etc/flexnode/zero'));
    await writeFile(join(root, 'etc/flexnode/good'), `${SECRET}\n`, { mode: 0o600 });
    const withFile = async (secretFile: string) => {
      const config = fullConfig();
      delete config.azure.servicePrincipal.clientSecret;
      config.azure.servicePrincipal.clientSecretFile = secretFile;
      const file = join(dir, `sf-${secretFile.replace(/\W/g, '')}.json`);
      await writeFile(file, JSON.stringify(config), { mode: 0o600 });
      return file;
    };
    for (const [secretFile, message] of [
      ['/etc/flexnode/absent', /does not exist/],
      ['/etc/flexnode/zero', /a device/],
      ['/etc/flexnode/fifo', /named pipe/],
    ] as const) {
      const error = await failure(await withFile(secretFile), { root });
      expect(error.issues, secretFile).to.deep.equal([{ path: 'azure.servicePrincipal.clientSecretFile', message: error.issues[0]!.message }]);
      expect(error.issues[0]!.message, secretFile).to.match(message);
    }
    const loaded = await loadConfig(await withFile('/etc/flexnode/good'), { allowPlaceholders: true, root, env: {} });
    expect(JSON.stringify(loaded)).to.not.include(SECRET);
  });

  it('a config nested thousands of levels deep is refused (exit 2, where), not a stack overflow', async () => {
    const file = join(dir, 'deep.json');
    const text = JSON.stringify({ ...fullConfig(), pluginConfig: { '@org/x': { a: 'HERE' } } }).replace('"HERE"', `${'['.repeat(5000)}${']'.repeat(5000)}`);
    await writeFile(file, text, { mode: 0o600 });
    const error = await failure(file);
    expect(error.message).to.match(/nests deeper than 64 levels \(at pluginConfig\.@org\/x\.a(\[0\])+\)/);
    expect(error.exitCode).to.equal(2);
    // A config as deep as real ones (and deeper) loads.
    const fine = join(dir, 'fine.json');
    await writeFile(fine, JSON.stringify({ ...fullConfig(), pluginConfig: { '@org/x': { a: JSON.parse(`${'['.repeat(40)}${']'.repeat(40)}`) } } }), {
      mode: 0o600,
    });
    await loadConfig(fine, { allowPlaceholders: true, env: {} });
  });

  it('fieldAt follows objects, arrays and keys of a JSON prefix', () => {
    expect(fieldAt('{"a": {"b": [1, 2, {"c": "x')).to.equal('a.b[2].c');
    expect(fieldAt('{"a": 1, "b"')).to.equal('b');
    expect(fieldAt('{"a": {"k\\"q": ')).to.equal('a.k"q');
  });
});
