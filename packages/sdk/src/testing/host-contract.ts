import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ChecksumError, DownloadError, ExecError, isFlexnodeError } from '../errors.js';
import type { Artifact, Host } from '../host.js';

/**
 * A machine the Host contract runs against: a fresh one per test. The real Host (core, under a sandbox root
 * without a service manager) and the {@link MemoryHost} (with `systemd: false`) both pass the same tests, so a
 * step tested on the MemoryHost behaves the same on a node.
 *
 * The machine has the commands `true`, `false` and `echo`, and no service manager.
 */
export interface ContractMachine {
  /** The Host step `stepId` sees: its changes are journaled under that id. A dry-run Host plans, over the same machine. */
  host(stepId: string, options?: { dryRun?: boolean }): Host;
  /** A file as the machine had it before flexnode (not journaled). */
  seedFile(path: string, content: string, mode: number): Promise<void>;
  /** A kernel parameter as the machine had it before flexnode. */
  seedSysctl(key: string, value: string): Promise<void>;
  /** Serve a tar.gz release archive holding `entries` (path → content); the artifact fetches it (404 once `gone`). */
  serveArchive(name: string, entries: Record<string, string>): Promise<Artifact>;
  /** Release what the machine holds (temp dirs, servers). */
  dispose(): Promise<void>;
}

/** Mocha's `describe`/`it`/hooks, taken from the global scope the test runner sets up. */
interface MochaGlobals {
  describe(title: string, fn: () => void): void;
  it(title: string, fn: () => Promise<void>): void;
  beforeEach(fn: () => Promise<void>): void;
  afterEach(fn: () => Promise<void>): void;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const UNIT = 'flexnode-contract.service';
const UNIT_FILE = `[Unit]\nDescription=contract test unit\n\n[Service]\nExecStart=/bin/true\n\n[Install]\nWantedBy=multi-user.target\n`;

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => assert.fail('expected a rejection'),
    (error: unknown) => error,
  );
}

/**
 * Define (under mocha) the tests every Host implementation passes: what files, changes, systemd, sysctl, exec,
 * downloads, apt and dry runs promise steps. `make` gives a fresh machine per test.
 */
export function describeHostContract(name: string, make: () => Promise<ContractMachine>): void {
  const { describe, it, beforeEach, afterEach } = globalThis as unknown as MochaGlobals;
  describe(`Host contract: ${name}`, () => {
    let machine: ContractMachine;
    beforeEach(async () => {
      machine = await make();
    });
    afterEach(async () => {
      await machine?.dispose();
    });
    const step = (id = 'contract.step') => machine.host(id);

    describe('files', () => {
      it('write creates the file and its parents with the mode; read, stat, sha256 and list agree', async () => {
        const host = step();
        assert.equal(await host.files.readText('/etc/contract/a/b.conf'), undefined);
        assert.equal(await host.files.stat('/etc/contract/a/b.conf'), undefined);
        assert.equal(await host.files.sha256('/etc/contract/a/b.conf'), undefined);
        assert.deepEqual(await host.files.list('/etc/contract'), []);
        assert.equal(await host.files.write('/etc/contract/a/b.conf', 'x=1\n', { mode: 0o640 }), true);
        assert.equal(await host.files.readText('/etc/contract/a/b.conf'), 'x=1\n');
        assert.deepEqual(await host.files.read('/etc/contract/a/b.conf'), Buffer.from('x=1\n'));
        const info = await host.files.stat('/etc/contract/a/b.conf');
        assert.equal(info?.type, 'file');
        assert.equal(info.mode & 0o7777, 0o640);
        assert.equal(info.size, 4);
        assert.equal((await host.files.stat('/etc/contract/a'))?.type, 'dir');
        assert.equal(await host.files.sha256('/etc/contract/a/b.conf'), sha256('x=1\n'));
        assert.deepEqual(await host.files.list('/etc/contract'), ['a']);
      });

      it('a secret is written 0600 unless told otherwise', async () => {
        const host = step();
        await host.files.write('/etc/contract/token', 'hunter2', { secret: true });
        assert.equal((await host.files.stat('/etc/contract/token'))!.mode & 0o7777, 0o600);
      });

      it('writing what is already there returns false and journals nothing', async () => {
        await machine.seedFile('/etc/contract.conf', 'same\n', 0o644);
        const host = step();
        assert.equal(await host.files.write('/etc/contract.conf', 'same\n', { mode: 0o644 }), false);
        assert.deepEqual(host.changes.list(), []);
      });

      it('revert restores a replaced file (content and mode) and removes a created one with the directories made for it', async () => {
        await machine.seedFile('/etc/contract.conf', 'before\n', 0o600);
        const host = step();
        await host.files.write('/etc/contract.conf', 'after\n', { mode: 0o644 });
        await host.files.write('/opt/contract/deep/new.bin', 'new', { mode: 0o755 });
        assert.equal(await host.files.readText('/etc/contract.conf'), 'after\n');
        await host.changes.revert();
        assert.equal(await host.files.readText('/etc/contract.conf'), 'before\n');
        assert.equal((await host.files.stat('/etc/contract.conf'))!.mode & 0o7777, 0o600);
        assert.equal(await host.files.stat('/opt/contract/deep/new.bin'), undefined);
        assert.equal(await host.files.stat('/opt/contract'), undefined);
        assert.deepEqual(host.changes.list(), []);
      });

      it('a file written twice is restored to what it was before the first write', async () => {
        await machine.seedFile('/etc/contract.conf', 'original\n', 0o644);
        const host = step();
        await host.files.write('/etc/contract.conf', 'one\n');
        await host.files.write('/etc/contract.conf', 'two\n');
        await host.changes.revert();
        assert.equal(await host.files.readText('/etc/contract.conf'), 'original\n');
      });

      it('remove returns false when nothing is there; a removed file comes back on revert', async () => {
        await machine.seedFile('/etc/contract.conf', 'keep me\n', 0o640);
        const host = step();
        assert.equal(await host.files.remove('/etc/contract-absent.conf'), false);
        assert.equal(await host.files.remove('/etc/contract.conf'), true);
        assert.equal(await host.files.stat('/etc/contract.conf'), undefined);
        await host.changes.revert();
        assert.equal(await host.files.readText('/etc/contract.conf'), 'keep me\n');
        assert.equal((await host.files.stat('/etc/contract.conf'))!.mode & 0o7777, 0o640);
      });

      it('mkdir returns true when it creates, false when the directory is there; revert removes it when empty', async () => {
        const host = step();
        assert.equal(await host.files.mkdir('/var/lib/contract/d'), true);
        assert.equal(await host.files.mkdir('/var/lib/contract/d'), false);
        assert.equal((await host.files.stat('/var/lib/contract/d'))?.type, 'dir');
        await host.changes.revert();
        assert.equal(await host.files.stat('/var/lib/contract'), undefined);
      });

      it("each step's changes are its own: reverting one step leaves another's in place", async () => {
        const a = machine.host('contract.a');
        const b = machine.host('contract.b');
        await a.files.write('/etc/contract-a', 'a');
        await b.files.write('/etc/contract-b', 'b');
        assert.equal(b.changes.list().filter((c) => c.kind === 'file').length, 1);
        await a.changes.revert();
        assert.equal(await a.files.stat('/etc/contract-a'), undefined);
        assert.equal(await b.files.readText('/etc/contract-b'), 'b');
      });
    });

    describe('changes', () => {
      it('custom records are listed in order, survive revert, and go with forget (all of a type, or those matching)', async () => {
        const host = step();
        await host.changes.record('contract-thing', { id: 1 });
        await host.changes.record('contract-thing', { id: 2 });
        await host.changes.record('contract-other', { id: 3 });
        await host.changes.revert();
        const customs = () => host.changes.list().flatMap((c) => (c.kind === 'custom' ? [`${c.type}:${String(c.data['id'])}`] : []));
        assert.deepEqual(customs(), ['contract-thing:1', 'contract-thing:2', 'contract-other:3']);
        await host.changes.forget('contract-thing', (data) => data['id'] === 1);
        assert.deepEqual(customs(), ['contract-thing:2', 'contract-other:3']);
        await host.changes.forget('contract-thing');
        assert.deepEqual(customs(), ['contract-other:3']);
      });

      it('a second revert does nothing', async () => {
        const host = step();
        await host.files.write('/etc/contract.conf', 'x');
        await host.changes.revert();
        await machine.seedFile('/etc/contract.conf', 'put there by someone else', 0o644);
        await host.changes.revert();
        assert.equal(await host.files.readText('/etc/contract.conf'), 'put there by someone else');
      });
    });

    describe('systemd, without a service manager', () => {
      it('is not available; enable is journaled and seen; start is journaled, not performed; revert disables', async () => {
        await machine.seedFile(`/etc/systemd/system/${UNIT}`, UNIT_FILE, 0o644);
        const host = step();
        assert.equal(await host.systemd.available(), false);
        assert.equal(await host.systemd.isEnabled(UNIT), false);
        assert.equal(await host.systemd.enable(UNIT), true);
        assert.equal(await host.systemd.isEnabled(UNIT), true);
        assert.equal(await host.systemd.enable(UNIT), false);
        assert.equal(await host.systemd.start(UNIT), true);
        assert.equal(await host.systemd.isActive(UNIT), false);
        assert.deepEqual(
          host.changes.list().map((c) => c.kind),
          ['unit-enabled', 'unit-started'],
        );
        await host.changes.revert();
        assert.equal(await host.systemd.isEnabled(UNIT), false);
        assert.deepEqual(host.changes.list(), []);
      });
    });

    describe('sysctl', () => {
      it('set journals the previous value, is a no-op when equal, and revert puts the value back', async () => {
        await machine.seedSysctl('net.ipv4.ip_forward', '0');
        const host = step();
        assert.equal(await host.sysctl.get('net.ipv4.ip_forward'), '0');
        assert.equal(await host.sysctl.set('net.ipv4.ip_forward', '1'), true);
        assert.equal(await host.sysctl.get('net.ipv4.ip_forward'), '1');
        assert.equal(await host.sysctl.set('net.ipv4.ip_forward', '1'), false);
        await host.changes.revert();
        assert.equal(await host.sysctl.get('net.ipv4.ip_forward'), '0');
      });
    });

    describe('exec', () => {
      it('returns the output; a non-zero exit throws ExecError unless allowed; which finds executables', async () => {
        const host = step();
        const out = await host.exec.run('echo', ['hello', 'contract'], { mutates: false });
        assert.equal(out.exitCode, 0);
        assert.equal(out.stdout.trim(), 'hello contract');
        const error = await rejection(host.exec.run('false', [], { mutates: false }));
        assert.ok(error instanceof ExecError, String(error));
        assert.notEqual((await host.exec.run('false', [], { mutates: false, allowFailure: true })).exitCode, 0);
        assert.match((await host.exec.which('true')) ?? '', /\/true$/);
        assert.equal(await host.exec.which('flexnode-contract-no-such-command'), undefined);
      });

      it('a mutating command is journaled, and revert keeps it (a command cannot be undone)', async () => {
        const host = step();
        await host.exec.run('true', ['--contract'], { describe: 'contract command' });
        await host.changes.revert();
        assert.deepEqual(
          host.changes.list().map((c) => (c.kind === 'exec' ? `${c.command} ${c.args.join(' ')}` : c.kind)),
          ['true --contract'],
        );
      });
    });

    describe('downloads', () => {
      it('fetch verifies the sha256, unpack yields the entries, copyFrom puts one in place', async () => {
        const artifact = await machine.serveArchive('contract-1.0.tar.gz', { 'bin/tool': '#!/bin/sh\necho tool\n', README: 'read me' });
        const host = step();
        const archive = await host.downloads.fetch(artifact);
        const staging = await host.downloads.unpack(archive);
        await host.files.copyFrom(`${staging}/bin/tool`, '/usr/local/bin/contract-tool', { mode: 0o755 });
        assert.equal(await host.files.readText('/usr/local/bin/contract-tool'), '#!/bin/sh\necho tool\n');
        assert.equal((await host.files.stat('/usr/local/bin/contract-tool'))!.mode & 0o7777, 0o755);
        await host.changes.revert();
        assert.equal(await host.files.stat('/usr/local/bin/contract-tool'), undefined);
      });

      it('a sha256 mismatch is a ChecksumError naming the artifact; a missing artifact a DownloadError', async () => {
        const artifact = await machine.serveArchive('contract-1.0.tar.gz', { tool: 'x' });
        const host = step();
        const wrong = { ...artifact, sha256: '0'.repeat(64) };
        const mismatch = await rejection(host.downloads.fetch(wrong));
        assert.ok(mismatch instanceof ChecksumError, String(mismatch));
        assert.match((mismatch as Error).message, new RegExp(artifact.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
        const gone = await rejection(host.downloads.fetch({ ...artifact, url: `${artifact.url}.absent`, mirrorPath: `${artifact.mirrorPath}.absent` }));
        assert.ok(gone instanceof DownloadError, String(gone));
      });
    });

    describe('apt and modules', () => {
      it('an unknown package is not installed; an absent kernel module is not loaded', async () => {
        const host = step();
        assert.equal(await host.apt.isInstalled('flexnode-contract-no-such-package'), false);
        assert.equal(await host.modules.isLoaded('flexnode_contract_no_such_module'), false);
      });
    });

    describe('dry run', () => {
      it('plans writes, removals, units, sysctls and commands without changing the machine or the journal', async () => {
        await machine.seedFile('/etc/contract.conf', 'before\n', 0o644);
        await machine.seedFile(`/etc/systemd/system/${UNIT}`, UNIT_FILE, 0o644);
        await machine.seedSysctl('net.ipv4.ip_forward', '0');
        const dry = machine.host('contract.dry', { dryRun: true });
        assert.equal(dry.dryRun, true);
        assert.equal(await dry.files.write('/etc/contract.conf', 'after\n'), true);
        assert.equal(await dry.files.write('/etc/contract-new.conf', 'new\n'), true);
        assert.equal(await dry.files.remove('/etc/contract.conf'), true);
        assert.equal(await dry.systemd.enable(UNIT), true);
        assert.equal(await dry.sysctl.set('net.ipv4.ip_forward', '1'), true);
        const ran = await dry.exec.run('false', []);
        assert.equal(ran.exitCode, 0, 'a mutating command is not run in a dry run');
        await dry.changes.record('contract-thing', { id: 1 });
        const real = machine.host('contract.dry');
        assert.equal(await real.files.readText('/etc/contract.conf'), 'before\n');
        assert.equal(await real.files.stat('/etc/contract-new.conf'), undefined);
        assert.equal(await real.systemd.isEnabled(UNIT), false);
        assert.equal(await real.sysctl.get('net.ipv4.ip_forward'), '0');
        assert.deepEqual(real.changes.list(), []);
      });

      it('a read-only command runs in a dry run too', async () => {
        const dry = machine.host('contract.dry', { dryRun: true });
        assert.equal((await dry.exec.run('echo', ['probe'], { mutates: false })).stdout.trim(), 'probe');
        const error = await rejection(dry.exec.run('false', [], { mutates: false }));
        assert.ok(isFlexnodeError(error));
      });
    });
  });
}
