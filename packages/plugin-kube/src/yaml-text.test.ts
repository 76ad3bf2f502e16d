import { testConfig } from '@flexnode/sdk/testing';
import { expect } from 'chai';
import { parse, stringify } from 'yaml';
import { renderBootstrapKubeconfig } from './bootstrap/kubeconfig.js';
import { kubeconfigObject } from './cluster/kubeconfig.js';
import { containerdRuntime } from './fixtures.test.helpers.js';
import { kubeletConfiguration } from './kubelet/config.js';
import { kubePaths } from './paths.js';
import { kubeProxyConfiguration } from './proxy/config.js';
import { kubeSettings } from './settings.js';
import { parseKubeVersion } from './version.js';
import { fromYaml, plainYaml, readPlainYaml, toYaml } from './yaml-text.js';

const CA = '-----BEGIN CERTIFICATE-----\nMIIBkjCCATmgAwIBAgIU\n-----END CERTIFICATE-----\n';
const identity = {
  getToken: async () => ({ token: 't', expiresOnTimestamp: 0 }),
  principalId: async () => undefined,
  execCredential: () => ({
    command: '/usr/local/bin/node',
    args: ['/usr/lib/node_modules/@flexnode/cli/bin/run.js', 'token', '--resource', '6dae42f8-4368-4678-94ff-3960e28e3630'],
    env: { IDENTITY_ENDPOINT: 'http://127.0.0.1:40342/metadata/identity/oauth2/token' },
  }),
};

/** The files flexnode writes with YAML, as plain objects. */
function writtenDocuments(): [string, unknown][] {
  const config = testConfig({
    node: {
      name: 'edge-1',
      maxPods: 50,
      labels: { team: 'edge', 'node.kubernetes.io/pool': 'flex' },
      taints: ['dedicated=edge:NoSchedule'],
      kubelet: {
        kubeReserved: { cpu: '100m', memory: '500Mi' },
        evictionHard: { 'memory.available': '200Mi' },
        imageGCHighThreshold: 80,
        imageGCLowThreshold: 60,
      },
    },
  });
  const version = parseKubeVersion('1.30.4')!;
  const kubelet = (resolved: boolean, tlsBootstrap: boolean, c = config) =>
    kubeletConfiguration({
      config: c,
      settings: kubeSettings(config),
      cluster: { name: 'aks-1', dnsServiceIP: '10.0.0.10' },
      paths: kubePaths(config),
      resolved,
      runtime: containerdRuntime,
      version,
      machine: { cpus: 4, memoryBytes: 16 * 2 ** 30 },
      tlsBootstrap,
    });
  return [
    ['kubeconfig (node identity)', kubeconfigObject('aks-1', 'https://aks-1-dns-abc.hcp.westus2.azmk8s.io:443', CA, identity)],
    ['kubelet config', kubelet(true, false)],
    ['kubelet config (bootstrap-token, no systemd-resolved)', kubelet(false, true)],
    ["kubelet config (AKS's eviction thresholds)", kubelet(true, false, testConfig())],
    ['kube-proxy config', kubeProxyConfiguration(kubePaths(config), { nodeName: 'edge-1', clusterCIDRs: ['10.244.0.0/16'], version })],
  ];
}

/** Random data in the shapes of those files, with strings and keys that YAML reads in many ways. */
function randomDocument(seed: number): Record<string, unknown> {
  let s = seed;
  const rnd = (n: number) => ((s = (s * 1103515245 + 12345) % 2 ** 31), s % n);
  const safe = ['a', 'Z', '0', '9', '.', '-', '_', '/', ':', '=', '+', '@', '%', 'e', 'x', '0x', 'true', 'null', '--', '---', 'Inf', 'nan'];
  const hostile = [' ', '#', '"', "'", '~', '[', '{', '*', '&', '!', '%', '|', '>', 'ü', ',', '?', '\\', '\t'];
  const atom = () => (rnd(60) === 0 ? hostile[rnd(hostile.length)] : safe[rnd(safe.length)]);
  const text = () => Array.from({ length: rnd(20) === 0 ? 0 : 1 + rnd(5) }, atom).join('');
  const key = () => (rnd(6) === 0 ? text() : ['name', 'server', 'memory.available', 'node.kubernetes.io/pool', 'a-b', 'x_1'][rnd(6)]!);
  const value = (depth: number): unknown => {
    switch (depth > 3 ? rnd(4) : rnd(8)) {
      case 0:
        return text();
      case 1:
        return rnd(2) === 0;
      case 2:
        return [0, 7, -3, 100, 10250, 1.5, 2 ** 60][rnd(rnd(10) === 0 ? 7 : 5)];
      case 3:
        return ['10250', '0s', '100Mi', '10%', '/var/lib/kubelet', 'https://x:443', '6dae42f8-4368-4678-94ff-3960e28e3630', 'LS0tLS1CRUdJTi=='][rnd(7)];
      case 4:
      case 5:
        return Object.fromEntries(Array.from({ length: rnd(4) }, () => [key(), value(depth + 1)]));
      default:
        return Array.from({ length: rnd(4) }, () => value(depth + 1));
    }
  };
  return Object.fromEntries(Array.from({ length: 1 + rnd(5) }, () => [key(), value(0)]));
}

describe('YAML of the files flexnode writes (yaml-text)', () => {
  it('writes each file exactly as the YAML library does, without the library', async () => {
    for (const [name, doc] of writtenDocuments()) {
      expect(plainYaml(doc), `${name}: not plain`).to.be.a('string');
      expect(await toYaml(doc), name).to.equal(stringify(doc));
      expect(readPlainYaml(`# header\n${stringify(doc)}`), name).to.deep.equal(parse(stringify(doc)));
    }
    const bootstrap = await renderBootstrapKubeconfig('aks-1', 'https://aks-1:443', CA, 'abcdef.0123456789abcdef');
    expect(bootstrap.split('\n').slice(1).join('\n')).to.equal(stringify(parse(bootstrap)));
    expect(readPlainYaml(bootstrap)).to.deep.equal(parse(bootstrap));
  });

  it('agrees with the library on random data, and leaves it whatever it cannot write plainly', async () => {
    let plain = 0;
    for (let seed = 1; seed <= 3000; seed++) {
      const doc = randomDocument(seed);
      const text = stringify(doc);
      const mine = plainYaml(doc);
      if (mine !== undefined) {
        plain++;
        expect(mine, `seed ${seed}`).to.equal(text);
        expect(readPlainYaml(mine), `seed ${seed}`).to.deep.equal(parse(text));
      }
      expect(await toYaml(doc), `seed ${seed}`).to.equal(text);
      // Reading: any text the library wrote reads as the library reads it (the plain reader or the library itself).
      expect(await fromYaml(text), `seed ${seed}`).to.deep.equal(parse(text));
    }
    // Both paths are exercised.
    expect(plain).to.be.within(100, 2900);
  });

  it('reads only what it would write back the same way', () => {
    expect(readPlainYaml('a: 1\nb:\n  - x\n')).to.deep.equal({ a: 1, b: ['x'] });
    for (const other of [
      'a: "1"\n',
      'a: 01\n',
      'a: True\n',
      'a: x # c\n',
      'a:\n - x\n',
      'a: [x]\n',
      'a: b\n  c: d\n',
      'a: 1',
      'a: 1\nb:\n',
      '- a\n',
      'a: 1.5\n',
    ]) {
      expect(readPlainYaml(other), JSON.stringify(other)).to.equal(undefined);
    }
  });
});
