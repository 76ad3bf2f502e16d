// GOLDEN: the kubelet settings of a real AKS node, as data with their sources, against what flexnode renders. The
// list is AKS's (not flexnode's output copied back): where flexnode differs on purpose the difference is listed in
// DIFFERENCES below, and the plugin's README must explain each one (this test reads it).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testConfig } from '@flexnode/sdk/testing';
import { expect } from 'chai';
import { containerdRuntime } from '../fixtures.test.helpers.js';
import { kubeSysctls } from '../os/sysctl.js';
import { kubePaths } from '../paths.js';
import { kubeSettings } from '../settings.js';
import { parseKubeVersion, type KubeVersion } from '../version.js';
import { kubeletConfiguration, type MachineSize } from './config.js';
import { kubeletArgs, kubeletUnit } from './unit.js';

// Sources (read for facts, not code):
const NODE_CONFIG = 'Azure/AgentBaker e2e/node_config.go baseKubeletConfig() @06836ee2301e362039418c3a7ed0fe6004a641fd';
const NODE_CONFIG_FLAGS = 'Azure/AgentBaker e2e/node_config.go Linux KubeletConfig flags @06836ee2301e362039418c3a7ed0fe6004a641fd';
const CSE_MAIN = 'Azure/AgentBaker parts/linux/cloud-init/artifacts/cse_main.sh (10-containerd-base-flag.conf) @06836ee2';
const CSE_CONFIG = 'Azure/AgentBaker parts/linux/cloud-init/artifacts/cse_config.sh ensureKubelet / ensureContainerd @06836ee2';
const SYSCTL_CIS = 'Azure/AgentBaker parts/linux/cloud-init/artifacts/sysctl-d-60-CIS.conf @06836ee2';
const RESERVATIONS = 'learn.microsoft.com/azure/aks/node-resource-reservations (AKS 1.29 and later)';
const AKS_NODE = '../shared/aks-node.md "Kubelet settings AKS uses"';

interface Case {
  version: KubeVersion;
  machine: MachineSize;
  dnsServiceIP: string;
}

const AKS_CIPHER_SUITES = [
  'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305',
  'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305',
  'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
  'TLS_RSA_WITH_AES_256_GCM_SHA384',
  'TLS_RSA_WITH_AES_128_GCM_SHA256',
];

/** A KubeletConfiguration field of AKS's nodes: its value (for the case) and where that comes from. */
interface AksField {
  path: string;
  aks: (c: Case) => unknown;
  source: string;
}

const AKS_KUBELET_CONFIGURATION: readonly AksField[] = [
  { path: 'address', aks: () => '0.0.0.0', source: NODE_CONFIG },
  { path: 'staticPodPath', aks: () => '/etc/kubernetes/manifests', source: NODE_CONFIG },
  { path: 'tlsCertFile', aks: () => '/etc/kubernetes/certs/kubeletserver.crt', source: NODE_CONFIG },
  { path: 'tlsPrivateKeyFile', aks: () => '/etc/kubernetes/certs/kubeletserver.key', source: NODE_CONFIG },
  { path: 'tlsCipherSuites', aks: () => AKS_CIPHER_SUITES, source: NODE_CONFIG },
  { path: 'rotateCertificates', aks: () => true, source: NODE_CONFIG },
  { path: 'serverTLSBootstrap', aks: () => true, source: NODE_CONFIG },
  { path: 'authentication.x509.clientCAFile', aks: () => '/etc/kubernetes/certs/ca.crt', source: NODE_CONFIG },
  { path: 'authentication.webhook.enabled', aks: () => true, source: NODE_CONFIG },
  { path: 'authentication.anonymous.enabled', aks: () => false, source: `${NODE_CONFIG} (Anonymous: {}), --anonymous-auth=false` },
  { path: 'authorization.mode', aks: () => 'Webhook', source: NODE_CONFIG },
  { path: 'eventRecordQPS', aks: () => 0, source: NODE_CONFIG },
  { path: 'clusterDomain', aks: () => 'cluster.local', source: NODE_CONFIG },
  { path: 'clusterDNS', aks: (c) => [c.dnsServiceIP], source: `${NODE_CONFIG} (the cluster's networkProfile.dnsServiceIP)` },
  { path: 'streamingConnectionIdleTimeout', aks: () => '4h0m0s', source: `${NODE_CONFIG} ("4h")` },
  { path: 'nodeStatusUpdateFrequency', aks: () => '10s', source: NODE_CONFIG },
  { path: 'imageGCHighThresholdPercent', aks: () => 85, source: NODE_CONFIG },
  { path: 'imageGCLowThresholdPercent', aks: () => 80, source: NODE_CONFIG },
  { path: 'cgroupsPerQOS', aks: () => true, source: NODE_CONFIG },
  { path: 'maxPods', aks: () => 110, source: NODE_CONFIG },
  { path: 'podPidsLimit', aks: () => -1, source: NODE_CONFIG },
  { path: 'resolvConf', aks: () => '/run/systemd/resolve/resolv.conf', source: NODE_CONFIG },
  {
    path: 'evictionHard',
    // node_config.go still has 750Mi: the rule of AKS before 1.29, which the docs state next to the current one.
    aks: (c) => ({ 'memory.available': c.version.minor >= 29 ? '100Mi' : '750Mi', 'nodefs.available': '10%', 'nodefs.inodesFree': '5%' }),
    source: `${RESERVATIONS}; ${NODE_CONFIG}`,
  },
  { path: 'protectKernelDefaults', aks: () => true, source: NODE_CONFIG },
  { path: 'featureGates', aks: () => ({ RotateKubeletServerCertificate: true }), source: NODE_CONFIG },
  {
    path: 'kubeReserved',
    aks: (c) => {
      const cpu =
        c.machine.cpus >= 64
          ? 740
          : c.machine.cpus >= 32
            ? 420
            : c.machine.cpus >= 16
              ? 260
              : c.machine.cpus >= 8
                ? 180
                : c.machine.cpus >= 4
                  ? 140
                  : c.machine.cpus >= 2
                    ? 100
                    : 60;
      const memory = Math.min(20 * 110 + 50, Math.floor(c.machine.memoryBytes / 2 ** 20 / 4));
      return { cpu: `${cpu}m`, memory: `${memory}Mi` };
    },
    source: RESERVATIONS,
  },
  { path: 'enforceNodeAllocatable', aks: () => ['pods'], source: NODE_CONFIG },
  { path: 'readOnlyPort', aks: () => 0, source: `${NODE_CONFIG_FLAGS} (--read-only-port=0)` },
  { path: 'cgroupDriver', aks: () => 'systemd', source: `${AKS_NODE}; cse_main.sh 10-cgroupv2.conf` },
  { path: 'containerRuntimeEndpoint', aks: () => 'unix:///run/containerd/containerd.sock', source: CSE_MAIN },
  { path: 'runtimeRequestTimeout', aks: () => '15m0s', source: `${CSE_MAIN} (--runtime-request-timeout=15m)` },
];

/** Flags AKS passes that have no KubeletConfiguration field (or that flexnode also passes as flags). */
const AKS_FLAGS: readonly { flag: string; aks: string | RegExp; source: string }[] = [
  { flag: '--cloud-provider', aks: 'external', source: NODE_CONFIG },
  { flag: '--kubeconfig', aks: '/var/lib/kubelet/kubeconfig', source: NODE_CONFIG },
  { flag: '--node-ip', aks: /^\d+\.\d+\.\d+\.\d+$/, source: `${CSE_CONFIG} (setKubeletNodeIPFlag, 1.29 and later)` },
  { flag: '--runtime-cgroups', aks: '/system.slice/containerd.service', source: CSE_MAIN },
];

/** Kernel settings AKS's nodes get, and where. */
const FORWARD = `${CSE_CONFIG} (99-force-bridge-forward.conf)`;
const AKS_SYSCTLS: Readonly<Record<string, [aks: string, source: string]>> = {
  'net.ipv4.ip_forward': ['1', FORWARD],
  'net.ipv4.conf.all.forwarding': ['1', FORWARD],
  'net.ipv6.conf.all.forwarding': ['1', FORWARD],
  'net.bridge.bridge-nf-call-iptables': ['1', FORWARD],
  // what protectKernelDefaults needs, and the limits
  'vm.overcommit_memory': ['1', SYSCTL_CIS],
  'kernel.panic': ['10', SYSCTL_CIS],
  'kernel.panic_on_oops': ['1', SYSCTL_CIS],
  'kernel.pid_max': ['4194304', SYSCTL_CIS],
  'fs.inotify.max_user_watches': ['1048576', SYSCTL_CIS],
  'fs.inotify.max_user_instances': ['1024', SYSCTL_CIS],
};

/** Where flexnode differs on purpose, and what it has instead (undefined: not set). Each is explained in the README. */
const DIFFERENCES: Readonly<Record<string, unknown>> = {
  staticPodPath: undefined,
  tlsCertFile: undefined,
  tlsPrivateKeyFile: undefined,
  tlsCipherSuites: AKS_CIPHER_SUITES.filter((suite) => suite.startsWith('TLS_ECDHE_')), // no RSA key exchange
  rotateCertificates: false,
  serverTLSBootstrap: false,
  featureGates: undefined,
  '--cloud-provider': undefined,
  'net.ipv6.conf.all.forwarding': undefined,
  WatchdogSec: undefined,
};

const get = (doc: unknown, path: string): unknown => path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], doc);
const flagValue = (args: readonly string[], flag: string) => args.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1);
const readme = () => readFileSync(join(dirname(fileURLToPath(import.meta.url)), '../../README.md'), 'utf8');

const CASES: Case[] = [
  { version: parseKubeVersion('1.35.2')!, machine: { cpus: 4, memoryBytes: 16 * 2 ** 30 }, dnsServiceIP: '10.0.0.10' },
  { version: parseKubeVersion('1.37.1')!, machine: { cpus: 2, memoryBytes: 4 * 2 ** 30 }, dnsServiceIP: '172.16.0.10' },
  { version: parseKubeVersion('1.30.101-akslts')!, machine: { cpus: 96, memoryBytes: 512 * 2 ** 30 }, dnsServiceIP: '10.96.0.10' },
  { version: parseKubeVersion('1.33.13')!, machine: { cpus: 3, memoryBytes: 2 * 2 ** 30 }, dnsServiceIP: '10.2.0.10' },
];

describe("golden: the kubelet settings against AKS's (sources in the list)", () => {
  const config = testConfig();
  const paths = kubePaths(config);
  const render = (c: Case) =>
    kubeletConfiguration({
      config,
      settings: kubeSettings(config),
      cluster: { name: 'c', dnsServiceIP: c.dnsServiceIP },
      paths,
      resolved: true,
      runtime: containerdRuntime,
      version: c.version,
      machine: c.machine,
    });

  for (const c of CASES) {
    it(`KubeletConfiguration of ${c.version.text} on ${c.machine.cpus} CPUs / ${c.machine.memoryBytes / 2 ** 30} GiB: AKS's values, or a listed difference`, () => {
      const doc = render(c);
      for (const field of AKS_KUBELET_CONFIGURATION) {
        const want = field.path in DIFFERENCES ? DIFFERENCES[field.path] : field.aks(c);
        expect(get(doc, field.path), `${field.path} (AKS: ${JSON.stringify(field.aks(c))}, from ${field.source})`).to.deep.equal(want);
      }
    });
  }

  it("flags: AKS's, or a listed difference; the unit has no watchdog (listed)", () => {
    const c = CASES[0]!;
    const args = kubeletArgs(paths, { nodeName: 'n', labels: {}, nodeIP: '192.0.2.10', version: c.version, runtimeUnit: containerdRuntime.unit });
    for (const f of AKS_FLAGS) {
      const value = flagValue(args, f.flag);
      if (f.flag in DIFFERENCES) expect(value, f.flag).to.equal(DIFFERENCES[f.flag]);
      else if (f.aks instanceof RegExp) expect(value, `${f.flag} (${f.source})`).to.match(f.aks);
      else expect(value, `${f.flag} (${f.source})`).to.equal(f.aks);
    }
    // AgentBaker gives kubelets of 1.32 and later WatchdogSec=60s (cse_config.sh ensureKubelet).
    expect(kubeletUnit(paths, containerdRuntime)).to.not.match(/WatchdogSec/);
  });

  it("sysctls: AKS's, or a listed difference", () => {
    const sysctls = kubeSysctls(testConfig());
    for (const [key, [value, source]] of Object.entries(AKS_SYSCTLS)) {
      expect(sysctls[key], `${key} (AKS: ${value}, from ${source})`).to.equal(key in DIFFERENCES ? DIFFERENCES[key] : value);
    }
  });

  it("every difference is explained in the README's table of deliberate differences", () => {
    const text = readme();
    const section = text.slice(text.indexOf('### Deliberate differences from AKS'));
    expect(section.length, 'README has a "### Deliberate differences from AKS" section').to.be.lessThan(text.length);
    const table = section.slice(0, section.indexOf('\n#', 4) > 0 ? section.indexOf('\n#', 4) : undefined);
    for (const key of Object.keys(DIFFERENCES)) expect(table, key).to.include(`\`${key}\``);
  });
});
