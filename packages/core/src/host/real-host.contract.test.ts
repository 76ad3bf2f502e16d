import { describeHostContract } from '@flexnode/sdk/testing/host-contract';
import { promises as fs } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Journal } from '../state/journal.js';
import { createRealHost, type RealHost } from './real-host.js';
import { makeTmp, memoryLogger, rawTar, sha256 } from './support.test.helpers.js';

// The real Host under a sandbox root (no service manager there), against the same contract as the SDK's
// MemoryHost (sdk: testing/memory-host.contract.test.ts). Archives come from an HTTP server on 127.0.0.1.
describeHostContract('real Host (sandbox root)', async () => {
  const root = await makeTmp('flexnode-contract-');
  const stateDir = '/var/lib/flexnode';
  const journal = await Journal.open(join(root, stateDir));
  const archives = new Map<string, Buffer>();
  const server = createServer((req, res) => {
    const body = archives.get(req.url ?? '');
    res.statusCode = body ? 200 : 404;
    res.end(body ?? 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const common = { root, stateDir, log: memoryLogger(), redact: (s: string) => s, download: { idleTimeoutMs: 2000, retries: 0, backoffMs: 10 } };
  const hosts: RealHost[] = [];
  const make = (dryRun: boolean) => {
    const host = createRealHost({ ...common, dryRun, journal });
    hosts.push(host);
    return host;
  };
  const real = make(false);
  let dry: RealHost | undefined;
  const onMachine = (path: string) => join(root, path);
  return {
    host: (stepId, options) => (options?.dryRun ? (dry ??= make(true)) : real).forStep(stepId, 'contract'),
    seedFile: async (path, content, mode) => {
      await fs.mkdir(dirname(onMachine(path)), { recursive: true });
      await fs.writeFile(onMachine(path), content, { mode });
      await fs.chmod(onMachine(path), mode);
    },
    seedSysctl: async (key, value) => {
      const path = onMachine(`/proc/sys/${key.replaceAll('.', '/')}`);
      await fs.mkdir(dirname(path), { recursive: true });
      await fs.writeFile(path, `${value}\n`);
    },
    serveArchive: async (name, entries) => {
      const tar = gzipSync(rawTar(Object.entries(entries).map(([path, content]) => ({ path, content, mode: 0o755 }))));
      archives.set(`/contract/${name}`, tar);
      return { name: `${name} (amd64)`, url: `${base}/contract/${name}`, mirrorPath: `contract/v1.0/${name}`, sha256: sha256(tar) };
    },
    dispose: async () => {
      for (const host of hosts) await host.dispose();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
});
