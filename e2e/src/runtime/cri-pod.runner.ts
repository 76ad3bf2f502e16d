// Runs a pod through the CRI the way the kubelet does (RunPodSandbox with the runtime's default handler,
// CreateContainer, StartContainer) and prints {sandboxId, containerId} as JSON; `--remove SANDBOX` stops and
// removes one. Run inside a machine as root: `node cri-pod.runner.js SOCKET IMAGE COMMAND...`. Not a mocha spec.
import { CriClient, entry, msg, readStrings, str, uint } from './cri-client.js';

const [socket, first, ...rest] = process.argv.slice(2) as [string, string, ...string[]];
const cri = CriClient.connect(socket);
try {
  if (first === '--remove') {
    const [sandboxId] = rest as [string];
    await cri.call('RuntimeService', 'StopPodSandbox', str(1, sandboxId));
    await cri.call('RuntimeService', 'RemovePodSandbox', str(1, sandboxId));
    console.log(JSON.stringify({ removed: sandboxId }));
  } else {
    const [image, ...command] = [first, ...rest];
    // PodSandboxConfig: metadata {name, uid, namespace, attempt}, hostname, log_directory, labels, linux {cgroup_parent}.
    const sandboxConfig = [
      msg(1, str(1, 'flexnode-e2e'), str(2, 'flexnode-e2e-uid'), str(3, 'default'), uint(4, 0)),
      str(2, 'flexnode-e2e'),
      entry(6, 'flexnode-e2e', 'true'),
      msg(8, str(1, 'flexnode-e2e.slice')),
    ];
    const sandbox = readStrings(await cri.call('RuntimeService', 'RunPodSandbox', msg(1, ...sandboxConfig)));
    const sandboxId = sandbox.get(1)![0]!;
    // ContainerConfig: metadata {name}, image {image}, command.
    const container = [msg(1, str(1, 'main')), msg(2, str(1, image)), ...command.map((c) => str(3, c))];
    const created = readStrings(await cri.call('RuntimeService', 'CreateContainer', str(1, sandboxId), msg(2, ...container), msg(3, ...sandboxConfig)));
    const containerId = created.get(1)![0]!;
    await cri.call('RuntimeService', 'StartContainer', str(1, containerId));
    console.log(JSON.stringify({ sandboxId, containerId }));
  }
} finally {
  cri.close();
}
