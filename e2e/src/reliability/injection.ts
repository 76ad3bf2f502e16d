// Area 9: command injection. Config values with shell metacharacters in fields that reach executables: Arc tags
// (accepted by the schema) must reach `azcmagent connect` as one literal argument and land on the machine resource
// unchanged; the fields whose schema forbids them (machine name, resource group, region, node labels and name,
// taints, versions, image, CIDR) must be rejected (exit 2, path named). No marker file may ever appear.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { arcBox } from './azure.js';
import type { Infra } from './infra.js';
import { Checks, excerpt, pool, rowOf, runCli, Sandbox, WORK, type Row } from './lib.js';
import { writeFile } from 'node:fs/promises';

const marker = (n: string) => join(WORK, `pwned-${n}`);
const TMP_MARKER = `/tmp/flexnode-rel-pwned-${process.pid}`;

const payloads = (n: string) => [
  `x; touch ${marker(n)}; rm -rf /`,
  `$(touch ${marker(n)})`,
  `\`touch ${marker(n)}\``,
  `line1\ntouch ${marker(n)}`,
  `"' && touch ${marker(n)} #`,
  `$(touch ${TMP_MARKER})`,
];

type Mutation = [name: string, mutate: (c: Record<string, any>, p: string) => void, path: string];

const REJECTED: Mutation[] = [
  ['arc machineName', (c, p) => (c.azure.arc = { machineName: p }), 'azure.arc.machineName'],
  ['arc resourceGroup', (c, p) => (c.azure.arc = { resourceGroup: p }), 'azure.arc.resourceGroup'],
  ['arc location', (c, p) => (c.azure.arc = { location: p }), 'azure.arc.location'],
  ['node label value', (c, p) => (c.node = { labels: { team: p } }), 'node.labels.team'],
  ['node label key', (c, p) => (c.node = { labels: { [p.slice(0, 40)]: 'v' } }), 'node.labels'],
  ['node name', (c, p) => (c.node = { name: p }), 'node.name'],
  ['node taint', (c, p) => (c.node = { taints: [`k=${p}:NoSchedule`] }), 'node.taints[0]'],
  ['kubernetes version', (c, p) => (c.kubernetes = { version: `1.30.4${p}` }), 'kubernetes.version'],
  ['containerd pause image', (c, p) => (c.containerd = { ...c.containerd, pauseImage: `pause:3.9${p}` }), 'containerd.pauseImage'],
  ['cni podCIDR', (c, p) => (c.cni = { ...c.cni, podCIDR: `10.88.0.0/24${p}` }), 'cni.podCIDR'],
];

export async function injectionArea(infra: Infra, config: Record<string, any>): Promise<Row[]> {
  // 1. Accepted values: Arc tags reach azcmagent as one literal argument.
  const tagsCase = new Checks('arc tags with shell metacharacters');
  const tags: Record<string, string> = { env: 'edge' };
  // Every payload but the one with a newline: no string field takes a control character (case 2b).
  payloads('tags')
    .filter((p) => !/[\u0000-\u001f]/.test(p))
    .forEach((p, i) => (tags[`t${i}`] = p));
  tags['k;$(id)`id`'] = 'v';
  const box = await arcBox(infra, 'injection-tags', { config: (c) => (c.azure.arc.tags = tags) });
  const run = await box.bootstrap();
  tagsCase.ok(run.code === 0, `bootstrap exited ${run.code}: ${excerpt(run)}`);
  const machine = infra.arm.machine(box.machine);
  tagsCase.ok(
    JSON.stringify(machine?.tags ?? {}) === JSON.stringify(tags),
    `the machine's tags are not the literal config values: ${JSON.stringify(machine?.tags)}`,
  );
  const standinFile = join(box.sb.dir, 'azcmagent-state.json');
  const standin = existsSync(standinFile) ? (JSON.parse(readFileSync(standinFile, 'utf8')) as { argv?: string[] }) : {};
  const argv = standin.argv ?? [];
  const tagArg = argv[argv.indexOf('--tags') + 1];
  const literal = Object.entries(tags)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  tagsCase.ok(tagArg === literal, `azcmagent did not get the tags as one literal argument: ${JSON.stringify(tagArg)}`);
  await box.sb.scan();
  const un = await box.run(['unbootstrap']);
  tagsCase.ok(un.code === 0, `unbootstrap exited ${un.code}: ${excerpt(un)}`);
  await box.sb.dispose();

  // 2. A comma inside a tag value must not turn into a second tag (azcmagent splits --tags on commas): the
  // schema refuses it (exit 2) before anything runs, so no step has started and there is nothing to undo.
  const comma = new Checks('arc tag value with a comma');
  const commaTags = { team: 'a,evil=injected' };
  const box2 = await arcBox(infra, 'injection-comma', { config: (c) => (c.azure.arc.tags = commaTags) });
  const run2 = await box2.bootstrap();
  comma.ok(
    run2.code === 2 && run2.stderr.includes('azure.arc.tags.team'),
    `not refused naming azure.arc.tags.team with exit 2: exit ${run2.code}: ${excerpt(run2)}`,
  );
  comma.ok(infra.arm.machine(box2.machine) === undefined, `the machine was registered: ${JSON.stringify(infra.arm.machine(box2.machine))}`);
  comma.ok(!existsSync(join(box2.sb.root, 'var/lib/flexnode')), 'a refused config left state behind');
  await box2.sb.dispose();

  // 2b. A newline in a tag value (a line of its own in any file or log it reaches): refused (exit 2), nothing run.
  const newline = new Checks('arc tag value with a newline');
  const box3 = await arcBox(infra, 'injection-newline', { config: (c) => (c.azure.arc.tags = { team: `edge\ntouch ${marker('newline')}` }) });
  const run3 = await box3.bootstrap();
  newline.ok(
    run3.code === 2 && run3.stderr.includes('azure.arc.tags.team') && /control character/.test(run3.stderr),
    `not refused naming azure.arc.tags.team with exit 2: exit ${run3.code}: ${excerpt(run3)}`,
  );
  newline.ok(infra.arm.machine(box3.machine) === undefined, 'the machine was registered');
  newline.ok(!existsSync(join(box3.sb.root, 'var/lib/flexnode')), 'a refused config left state behind');
  await box3.sb.dispose();

  // 3. Fields whose schema forbids metacharacters: rejected before anything runs.
  // Two payloads per field, rotating, so that every kind of payload meets several fields.
  const cases = REJECTED.flatMap(([name, mutate, path], f) => {
    const all = payloads(name.replace(/\W+/g, '-'));
    return [f % all.length, (f + 3) % all.length].map((i) => ({ name: `${name} #${i + 1}`, mutate, path, p: all[i]! }));
  });
  const sb = await Sandbox.create('injection', config);
  const results = await pool(cases, 2, async (k, i) => {
    const c = new Checks(`injection: ${k.name}`);
    const cfg = JSON.parse(JSON.stringify(config)) as Record<string, any>;
    k.mutate(cfg, k.p);
    const path = join(sb.dir, `inj-${i}.json`);
    await writeFile(path, JSON.stringify(cfg), { mode: 0o600 });
    const r = await runCli(['bootstrap', '--config', path, '--root', sb.root]);
    c.ok(r.code === 2, `exit ${r.code} (expected 2): ${excerpt(r)}`);
    c.ok(r.stderr.includes(`${k.path}`), `the message does not name ${k.path}: ${excerpt(r)}`);
    return c;
  });
  await sb.dispose((p) => /\/inj-\d+\.json$/.test(p));

  const markers = [...REJECTED.map(([n]) => marker(n.replace(/\W+/g, '-'))), marker('tags'), marker('newline'), TMP_MARKER];
  const none = new Checks('no side effect');
  for (const m of markers) none.ok(!existsSync(m), `marker ${m} exists: a command was injected`);
  return [
    rowOf('injection', 'arc tags with ; $() `` quotes: one literal argument', [tagsCase]),
    rowOf('injection', 'arc tag value with a newline: refused by the schema (exit 2), nothing run', [newline]),
    rowOf('injection', 'arc tag value with a comma: refused by the schema (exit 2), nothing run', [comma]),
    rowOf('injection', `metacharacters in ${REJECTED.length} schema-checked fields: exit 2`, results, `${results.length} configs`),
    rowOf('injection', 'no marker file created anywhere', [none], `${markers.length} markers`),
  ];
}
