// Each fault mode of the mirror behaves as documented, and the request log counts downloads.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArtifactManifest } from './build-artifacts.js';
import { startMirror, type MirrorServer } from './mirror-server.js';

const sha = (b: Buffer | Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('mirror: server and fault injection', function () {
  this.timeout(20_000);
  let dir: string;
  let manifest: ArtifactManifest;
  let mirror: MirrorServer;
  const path = 'tool/v1.0.0/tool-linux-amd64.tar.gz';
  const body = Buffer.alloc(300_000, 0);
  for (let i = 0; i < body.length; i++) body[i] = (i * 31) & 0xff;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mirror-'));
    await writeFile(join(dir, 'tool'), body);
    manifest = new ArtifactManifest('amd64');
    const added = await manifest.addFile(path, join(dir, 'tool'));
    expect(added).to.include({ name: 'tool', version: '1.0.0', sha256: sha(body) });
  });
  beforeEach(async () => {
    mirror = await startMirror(manifest);
  });
  afterEach(async () => mirror.close());
  after(async () => rm(dir, { recursive: true, force: true }));

  it('serves a file by mirror path with its sha256 and counts requests', async () => {
    const res = await fetch(mirror.urlOf(path));
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-length')).to.equal(String(body.length));
    expect(sha(new Uint8Array(await res.arrayBuffer()))).to.equal(manifest.lookup(path)!.sha256);
    await (await fetch(mirror.urlOf(path))).arrayBuffer();
    expect(mirror.count(path)).to.equal(2);
    expect(mirror.requests()).to.deep.equal([{ path, count: 2 }]);
  });

  it('404s unknown paths', async () => {
    const res = await fetch(`${mirror.url}/nope/v1/x`);
    expect(res.status).to.equal(404);
  });

  it('corrupt: same length, different sha256', async () => {
    mirror.setFault(path, 'corrupt');
    const got = Buffer.from(await (await fetch(mirror.urlOf(path))).arrayBuffer());
    expect(got.length).to.equal(body.length);
    expect(sha(got)).to.not.equal(sha(body));
    mirror.setFault(path, undefined);
    expect(sha(Buffer.from(await (await fetch(mirror.urlOf(path))).arrayBuffer()))).to.equal(sha(body));
  });

  it('truncate: sends half, then closes, so the body read fails', async () => {
    mirror.setFault(path, 'truncate');
    const res = await fetch(mirror.urlOf(path));
    expect(res.status).to.equal(200);
    let err: unknown;
    try {
      await res.arrayBuffer();
    } catch (e) {
      err = e;
    }
    expect(err, 'reading a truncated body must fail').to.be.instanceOf(Error);
  });

  it('notFound and fail500', async () => {
    mirror.setFault(path, 'notFound');
    expect((await fetch(mirror.urlOf(path))).status).to.equal(404);
    mirror.setFault(path, 'fail500');
    expect((await fetch(mirror.urlOf(path))).status).to.equal(500);
    mirror.clearFaults();
    expect((await fetch(mirror.urlOf(path))).status).to.equal(200);
    expect(mirror.log.map((r) => r.status)).to.deep.equal([404, 500, 200]);
  });

  it('stall: headers arrive, the body never does, and close() still ends it', async () => {
    mirror.setFault(path, 'stall');
    const res = await fetch(mirror.urlOf(path));
    expect(res.status).to.equal(200);
    const reading = res.arrayBuffer().then(
      () => 'finished',
      () => 'aborted',
    );
    const first = await Promise.race([reading, new Promise((r) => setTimeout(() => r('stalled'), 300))]);
    expect(first).to.equal('stalled');
    const t0 = Date.now();
    await mirror.close();
    expect(Date.now() - t0).to.be.below(2000);
    expect(await reading).to.equal('aborted');
  });

  it('serves files added after start', async () => {
    await writeFile(join(dir, 'late'), 'late');
    await manifest.addFile('late/v2.0.0/late', join(dir, 'late'));
    expect(await (await fetch(mirror.urlOf('late/v2.0.0/late'))).text()).to.equal('late');
  });
});
