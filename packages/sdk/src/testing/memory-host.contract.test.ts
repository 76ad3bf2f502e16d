import { describeHostContract } from './host-contract.js';
import { MemoryHost } from './memory-host.js';

// The in-memory machine against the same contract as core's real Host (core: real-host.contract.test.ts).
describeHostContract('MemoryHost', async () => {
  const machine = new MemoryHost({ systemd: false });
  // The commands the contract's machine has, as coreutils behave.
  machine.onExec('true', () => ({ exitCode: 0, stdout: '', stderr: '' }));
  machine.onExec('false', () => ({ exitCode: 1, stdout: '', stderr: '' }));
  machine.onExec('echo', (args) => ({ exitCode: 0, stdout: `${args.join(' ')}\n`, stderr: '' }));
  return {
    host: (stepId, options) => machine.forStep(stepId, options),
    seedFile: async (path, content, mode) => void machine.seedFile(path, content, mode),
    seedSysctl: async (key, value) => void machine.sysctls.set(key, value),
    serveArchive: async (name, entries) => {
      const url = `https://artifacts.contract.test/${name}`;
      const sha256 = machine.addArtifact(url, `archive ${name}: ${JSON.stringify(entries)}`, entries);
      return { name: `${name} (amd64)`, url, mirrorPath: `contract/v1.0/${name}`, sha256 };
    },
    dispose: async () => undefined,
  };
});
