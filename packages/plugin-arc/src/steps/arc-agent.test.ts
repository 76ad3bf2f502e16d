import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FlexnodeConfig } from '@flexnode/sdk';
import { createStep, MemoryHost, runStepCycle, testConfig } from '@flexnode/sdk/testing';
import { aptListPrefix, LIST_PATH } from '../apt-repository.js';
import { AGENT_PATH } from '../azcmagent.js';
import { APT_HELPER } from '../signing-key.js';
import { arcAgent } from '../steps.js';

const MICROSOFT = 'BC528686B50D79E339D3721CEB3E94ADBE1229CF';
const KEY = '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZ...stand-in key bytes\n-----END PGP PUBLIC KEY BLOCK-----\n';
const KEYRING = '/etc/apt/keyrings/flexnode-azcmagent.asc';
const INDEX = `/var/lib/apt/lists/${aptListPrefix('https://packages.microsoft.com/ubuntu/22.04/prod', 'jammy')}`;

/**
 * A MemoryHost that behaves like Ubuntu 22.04 with apt: apt's downloader serves a key, gpg lists it with
 * `fingerprint`, `apt-get update` writes index files, `apt-get install` unpacks an agent whose `config` keeps
 * proxy settings, `apt-get purge` removes it.
 */
function ubuntu(
  options: {
    fingerprint?: string;
    update?: { exitCode: number; stderr: string };
    agentConfig?: Record<string, string>;
    preinstalled?: boolean;
    files?: Record<string, string>;
  } = {},
) {
  const host = new MemoryHost()
    .seedFile('/etc/os-release', 'PRETTY_NAME="Ubuntu 22.04.4 LTS"\nID=ubuntu\nVERSION_ID="22.04"\nVERSION_CODENAME=jammy\n')
    .seedFile('/var/lib/apt/lists/lock', '');
  for (const [path, content] of Object.entries(options.files ?? {})) host.seedFile(path, content);
  const agentConfig = new Map(Object.entries(options.agentConfig ?? {}));
  const apt: string[][] = [];
  const agent: string[][] = [];
  const unpack = () => {
    host.seedFile(AGENT_PATH, '#!/bin/sh\n# azcmagent\n', 0o755);
    host.packages.add('azcmagent');
  };
  if (options.preinstalled) unpack();
  host.onExec(APT_HELPER, (args) => {
    writeFileSync(args.at(-1)!, KEY);
    return { exitCode: 0, stdout: '', stderr: '' };
  });
  host.onExec('gpg', () => ({
    exitCode: 0,
    stdout: `pub:-:4096:1:EB3E94ADBE1229CF:1446664935:::-:::scSC::::::23::0:\nfpr:::::::::${options.fingerprint ?? MICROSOFT}:\n`,
    stderr: '',
  }));
  host.onExec('apt-get', (args) => {
    apt.push([...args]);
    if (args.includes('update')) {
      if (options.update) return { exitCode: options.update.exitCode, stdout: '', stderr: options.update.stderr };
      host.seedFile(`${INDEX}InRelease`, 'signed index').seedFile(`${INDEX}main_binary-amd64_Packages`, 'Package: azcmagent\n');
    }
    const cache = args.find((a) => a.startsWith('Dir::Cache::archives='))?.split('=')[1];
    if (args.includes('--download-only')) writeFileSync(join(cache!, 'azcmagent_1.50.02997.1393_amd64.deb'), 'a .deb');
    else if (args.includes('install')) unpack();
    if (args.includes('purge')) {
      // dpkg also removes the package's directories that no other package owns once they are empty (/opt too).
      host.files.delete(AGENT_PATH);
      host.packages.delete('azcmagent');
      for (const d of ['/opt/azcmagent/bin', '/opt/azcmagent', '/opt']) host.dirs.delete(d);
    }
    return { exitCode: 0, stdout: '', stderr: '' };
  });
  host.onExec('dpkg-deb', () => ({
    exitCode: 0,
    stdout: ['./', './opt/', './opt/azcmagent/', './opt/azcmagent/bin/', './opt/azcmagent/bin/azcmagent']
      .map((p) => `${p.endsWith('/') ? 'drwxr-xr-x' : '-rwxr-xr-x'} root/root 0 2026-01-01 00:00 ${p}`)
      .join('\n'),
    stderr: '',
  }));
  host.onExec('install', (args) => {
    host.dirs.add(args.at(-1)!);
    return { exitCode: 0, stdout: '', stderr: '' };
  });
  host.onExec('rm', (args) => {
    for (const path of args.slice(2)) host.files.delete(path);
    return { exitCode: 0, stdout: '', stderr: '' };
  });
  host.onExec(AGENT_PATH, (args) => {
    agent.push([...args]);
    if (args[0] === 'version') return { exitCode: 0, stdout: 'azcmagent version 1.50.02997.1393\n', stderr: '' };
    if (args[0] === 'config' && args[1] === 'get') return { exitCode: 0, stdout: `${agentConfig.get(args[2]!) ?? ''}\n`, stderr: '' };
    if (args[0] === 'config' && args[1] === 'set') agentConfig.set(args[2]!, args[3]!);
    if (args[0] === 'config' && args[1] === 'clear') agentConfig.delete(args[2]!);
    if (args[0] === 'show') return { exitCode: 0, stdout: JSON.stringify({ status: 'Disconnected' }), stderr: '' };
    return { exitCode: 0, stdout: '', stderr: '' };
  });
  return { host, apt, agent, agentConfig };
}

const configWith = (extra: Partial<FlexnodeConfig> = {}, agent: Record<string, unknown> = {}) =>
  testConfig({ ...extra, pluginConfig: { '@flexnode/plugin-arc': { agent } } });

describe("arc.agent from Microsoft's signed repository (apt source)", () => {
  it('adds the key and a signed-by entry, updates that source alone, installs the package; uninstall removes all of it', async () => {
    const m = ubuntu();
    const report = await runStepCycle(arcAgent, { config: configWith(), host: m.host });
    expect(report.initial['arc.agent']!.status).to.equal('missing');
    expect(report.installed.files[KEYRING]).to.include({ mode: 0o644 });
    expect(report.installed.packages).to.deep.equal(['azcmagent']);
    const update = m.apt.find((a) => a.includes('update'))!;
    expect(update).to.include.members([`Dir::Etc::sourcelist=${LIST_PATH}`, 'Dir::Etc::sourceparts=-', 'APT::Get::List-Cleanup=0']);
    expect(m.apt.find((a) => a.includes('install'))!.slice(-1)).to.deep.equal(['azcmagent']);
    expect(m.apt.at(-1)).to.deep.equal(['purge', '-y', 'azcmagent']);
    // The repository's index files went with its entry (runStepCycle proved the machine pristine).
    expect(m.host.files.has(`${INDEX}InRelease`)).to.equal(false);
  });

  it('in a dry run plans the key check, the entry, the update and the package, and downloads nothing', async () => {
    const m = ubuntu();
    const dry = new MemoryHost({ dryRun: true }).seedFile('/etc/os-release', 'ID=ubuntu\nVERSION_ID="24.04"\n');
    for (const [command, handler] of m.host.execHandlers) dry.onExec(command, handler);
    await createStep(arcAgent, dry, { config: configWith() }).install();
    const ops = dry.ops.filter((o) => o.op !== 'mkdir');
    expect(ops.map((o) => `${o.op} ${o.target.split(' ').slice(0, 2).join(' ')}`)).to.deep.equal([
      'record check that',
      `write ${KEYRING}`,
      `write ${LIST_PATH}`,
      'exec apt-get -o',
      'exec apt-get -o',
      'exec apt-get -o',
    ]);
    expect(ops[3]!.target).to.include('update');
    expect(ops[4]!.target).to.include('--download-only');
    expect(ops[5]!.target).to.match(/install -y --no-install-recommends azcmagent$/);
    expect(m.apt).to.deep.equal([]);
    expect(dry.files.size).to.equal(1);
  });

  it('puts back a directory that was there before the package and that dpkg removed with it (/opt)', async () => {
    const m = ubuntu();
    m.host.dirs.add('/opt');
    await runStepCycle(arcAgent, { config: configWith(), host: m.host });
    expect(m.host.dirs.has('/opt')).to.equal(true);
    expect(m.host.dirs.has('/opt/azcmagent')).to.equal(false);
  });

  it('writes exactly the documented entry and the verified key', async () => {
    const m = ubuntu();
    const step = createStep(arcAgent, m.host, { config: configWith() });
    await step.install();
    expect(m.host.files.get(LIST_PATH)!.content.toString()).to.include(
      '\ndeb [arch=amd64 signed-by=/etc/apt/keyrings/flexnode-azcmagent.asc] https://packages.microsoft.com/ubuntu/22.04/prod jammy main\n',
    );
    expect(m.host.files.get(KEYRING)!.content.toString()).to.equal(KEY);
    expect((await step.check()).status).to.equal('ok');
    // A changed entry is drift: healed by writing it again (the agent stays).
    m.host.files.get(LIST_PATH)!.content = Buffer.from('deb [trusted=yes] http://evil jammy main\n');
    expect(JSON.stringify(await step.check())).to.include('not the entry flexnode wrote');
    await step.install();
    expect((await step.check()).status).to.equal('ok');
    expect(m.apt.filter((a) => a.includes('install') && !a.includes('--download-only'))).to.have.length(1);
    await step.uninstall();
  });

  it('refuses a key whose fingerprint is not the expected one: nothing installed, nothing left', async () => {
    const m = ubuntu({ fingerprint: 'AA86F75E427A19DD33346403EE4D7792F748182B' });
    const before = m.host.snapshot();
    const error = await createStep(arcAgent, m.host, { config: configWith() })
      .install()
      .then(
        () => undefined,
        (e: Error & { code?: string }) => e,
      );
    expect(error?.code).to.equal('ARC_REPO_KEY_REFUSED');
    expect(error?.message).to.include(`not ${MICROSOFT}`);
    expect(m.apt).to.deep.equal([]);
    expect(m.host.snapshot()).to.deep.equal(before);
    expect(m.host.journal.get('arc.agent') ?? []).to.deep.equal([]);
  });

  it('an index apt cannot verify stops the install and takes the entry and key away again', async () => {
    const m = ubuntu({
      update: {
        exitCode: 100,
        stderr:
          'W: GPG error: https://packages.microsoft.com/ubuntu/22.04/prod jammy InRelease: NO_PUBKEY EB3E94ADBE1229CF\nE: The repository is not signed.\n',
      },
    });
    const before = m.host.snapshot();
    const error = await createStep(arcAgent, m.host, { config: configWith() })
      .install()
      .then(
        () => undefined,
        (e: Error & { code?: string }) => e,
      );
    expect(error?.code).to.equal('ARC_REPO_UPDATE');
    expect(error?.message).to.include('NO_PUBKEY');
    expect(m.host.snapshot()).to.deep.equal(before);
    expect((m.host.journal.get('arc.agent') ?? []).filter((c) => c.kind !== 'exec')).to.deep.equal([]);
  });

  it("pins the version, goes through the config's proxy, and sets it on the agent; uninstall clears what it set", async () => {
    const m = ubuntu();
    const config = configWith(
      { proxy: { https: 'http://proxy.corp:3128', noProxy: '.arc.azure.com,.guestconfiguration.azure.com' } },
      { version: '1.50.02997.1393' },
    );
    await runStepCycle(arcAgent, { config, host: m.host });
    const install = m.apt.find((a) => a.includes('install'))!;
    expect(install).to.include.members(['-o', 'Acquire::https::Proxy=http://proxy.corp:3128', 'azcmagent=1.50.02997.1393']);
    expect(m.agent.filter((a) => a[0] === 'config' && a[1] !== 'get')).to.deep.equal([
      ['config', 'set', 'proxy.url', 'http://proxy.corp:3128'],
      ['config', 'set', 'proxy.bypass', 'Arc'],
      ['config', 'clear', 'proxy.url'],
      ['config', 'clear', 'proxy.bypass'],
    ]);
  });

  it('an agent that was there keeps its package; its own proxy setting comes back on uninstall', async () => {
    const m = ubuntu({ preinstalled: true, agentConfig: { 'proxy.url': 'http://old-proxy:8080' } });
    const config = configWith({ proxy: { https: 'http://proxy.corp:3128' } });
    const step = createStep(arcAgent, m.host, { config });
    expect(JSON.stringify(await step.check())).to.include('\\"http://old-proxy:8080\\", not the config');
    await step.install();
    expect(m.agentConfig.get('proxy.url')).to.equal('http://proxy.corp:3128');
    expect(m.apt).to.deep.equal([]); // no repository, no package: the agent was there
    expect((await step.check()).status).to.equal('ok');
    await step.uninstall();
    expect(m.agentConfig.get('proxy.url')).to.equal('http://old-proxy:8080');
    expect(m.host.packages.has('azcmagent')).to.equal(true);
    expect((m.host.journal.get('arc.agent') ?? []).filter((c) => c.kind !== 'exec')).to.deep.equal([]);
  });

  it("uses Microsoft's entry when the machine has it already, adding none of its own", async () => {
    // packages-microsoft-prod's entry, and the index apt keeps of it.
    const m = ubuntu({
      files: {
        '/etc/apt/sources.list.d/microsoft-prod.list':
          'deb [arch=amd64,arm64,armhf signed-by=/usr/share/keyrings/microsoft-prod.gpg] https://packages.microsoft.com/ubuntu/22.04/prod jammy main\n',
        [`${INDEX}InRelease`]: 'signed index',
        [`${INDEX}main_binary-amd64_Packages`]: 'Package: azcmagent\n',
      },
    });
    await runStepCycle(arcAgent, { config: configWith(), host: m.host });
    expect(m.apt.find((a) => a.includes('update'))).to.include('Dir::Etc::sourcelist=/etc/apt/sources.list.d/microsoft-prod.list');
    expect(m.apt.some((a) => a.includes('install'))).to.equal(true);
  });
});
