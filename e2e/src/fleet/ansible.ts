// Runs Debian's ansible-playbook against booted machines over ssh from the host side of their veths: a throwaway
// key, an inventory and vars in a private directory, the JSON stdout callback so tests read each host's result.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Machine } from '../machine/machine.js';
import { repoRoot } from '../mirror/paths.js';
import { hasCommand, run } from '../mirror/run.js';

export interface PlaybookResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Per host: ok, changed, failures, unreachable, skipped, ... (ansible's play recap). */
  stats: Record<string, { ok: number; changed: number; failures: number; unreachable: number; skipped: number }>;
  /** Every task result per host, in order: name, changed, failed, and the command line when there was one. */
  tasks: { host: string; task: string; changed: boolean; failed: boolean; skipped: boolean; cmd?: string[]; stdout?: string; msg?: string }[];
}

export interface AnsibleController {
  dir: string;
  /** The role's hosts, ready to be written to an inventory (ansible_host and their host vars). */
  inventory(hosts: Record<string, Record<string, unknown>>, groupVars?: Record<string, unknown>): void;
  /** `ansible-vault encrypt_string` into group_vars: the role reads it as a normal variable. */
  vaultVariable(name: string, value: string): Promise<void>;
  /** `ansible-playbook deploy/ansible/<playbook>` (default site.yml). */
  playbook(args?: string[], playbook?: string): Promise<PlaybookResult>;
  /** Let root on the machine be reached with the controller's key. */
  authorize(machine: Machine): Promise<void>;
}

/** What the controller side needs; empty when all is there. */
export async function missingForAnsible(): Promise<string[]> {
  const missing: string[] = [];
  for (const cmd of ['ansible-playbook', 'ansible-vault', 'ssh', 'ssh-keygen']) if (!(await hasCommand(cmd))) missing.push(`${cmd} (run .ci/setup-host.sh)`);
  return missing;
}

export async function ansibleController(dir: string): Promise<AnsibleController> {
  mkdirSync(join(dir, 'inventory/group_vars/flexnode_nodes'), { recursive: true });
  mkdirSync(join(dir, 'home'), { recursive: true });
  mkdirSync(join(dir, 'cp'), { recursive: true });
  const key = join(dir, 'id_ed25519');
  await run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'flexnode-e2e-fleet', '-f', key]);
  const vaultPassword = join(dir, 'vault-password');
  writeFileSync(vaultPassword, 'e2e vault password\n', { mode: 0o600 });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: join(dir, 'home'),
    LANG: 'C.UTF-8',
    ANSIBLE_HOME: join(dir, 'home/.ansible'),
    ANSIBLE_LOCAL_TEMP: join(dir, 'home/.ansible/tmp'),
    ANSIBLE_ROLES_PATH: join(repoRoot(), 'deploy/ansible/roles'),
    ANSIBLE_INVENTORY: join(dir, 'inventory/hosts.yml'),
    ANSIBLE_STDOUT_CALLBACK: 'json',
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_FORKS: '10',
    ANSIBLE_PIPELINING: 'True',
    ANSIBLE_HOST_KEY_CHECKING: 'False',
    ANSIBLE_PRIVATE_KEY_FILE: key,
    ANSIBLE_REMOTE_USER: 'root',
    ANSIBLE_SSH_CONTROL_PATH_DIR: join(dir, 'cp'),
    ANSIBLE_SSH_ARGS: '-o ControlMaster=auto -o ControlPersist=120s -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o ConnectTimeout=10',
    ANSIBLE_VAULT_PASSWORD_FILE: vaultPassword,
    ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3',
    ANSIBLE_RETRY_FILES_ENABLED: 'False',
  };
  const publicKey = (await run(['cat', `${key}.pub`])).stdout;
  return {
    dir,
    inventory(hosts, groupVars = {}) {
      // JSON is YAML: the inventory plugin reads it as is.
      writeFileSync(join(dir, 'inventory/hosts.yml'), JSON.stringify({ flexnode_nodes: { hosts } }, null, 2));
      writeFileSync(join(dir, 'inventory/group_vars/flexnode_nodes/main.yml'), JSON.stringify(groupVars, null, 2));
    },
    async vaultVariable(name, value) {
      const r = await run(['ansible-vault', 'encrypt_string', '--encrypt-vault-id', 'default', '--stdin-name', name], { env, input: value });
      writeFileSync(join(dir, 'inventory/group_vars/flexnode_nodes/vault.yml'), r.stdout);
    },
    async playbook(args = [], playbook = 'site.yml') {
      const r = await run(['ansible-playbook', join(repoRoot(), 'deploy/ansible', playbook), ...args], { env, allowFailure: true, timeoutMs: 900_000 });
      let parsed: { stats?: PlaybookResult['stats']; plays?: { tasks: { task: { name: string }; hosts: Record<string, Record<string, unknown>> }[] }[] } = {};
      try {
        parsed = JSON.parse(r.stdout.slice(r.stdout.indexOf('{')));
      } catch {
        /* the caller sees exitCode and stdout */
      }
      const tasks: PlaybookResult['tasks'] = [];
      const durations: [string, number][] = [];
      for (const play of parsed.plays ?? []) {
        for (const t of play.tasks) {
          const d = (t.task as { duration?: { start: string; end: string } }).duration;
          if (d) durations.push([t.task.name, Date.parse(d.end) - Date.parse(d.start)]);
          for (const [host, res] of Object.entries(t.hosts)) {
            tasks.push({
              host,
              task: t.task.name,
              changed: res.changed === true,
              failed: res.failed === true,
              skipped: res.skipped === true,
              ...(Array.isArray(res.cmd) ? { cmd: res.cmd as string[] } : {}),
              ...(typeof res.stdout === 'string' ? { stdout: res.stdout } : {}),
              ...(typeof res.msg === 'string' ? { msg: res.msg } : {}),
            });
          }
        }
      }
      if (process.env.FLEXNODE_E2E_TIMINGS)
        console.log(
          durations
            .sort((a, b) => b[1] - a[1])
            .slice(0, 8)
            .map(([n, ms]) => `        ${ms} ms  ${n}`)
            .join('\n'),
        );
      return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, stats: parsed.stats ?? {}, tasks };
    },
    async authorize(machine) {
      await machine.exec(['mkdir', '-p', '-m', '0700', '/root/.ssh']);
      await machine.writeFile('/root/.ssh/authorized_keys', publicKey, 0o600);
      await machine.execOrThrow(['systemctl', 'is-active', 'ssh.service'], { unit: 'ssh.service' });
    },
  };
}

/** A short account of a failed play for assertion messages: the failed tasks and their output. */
export function explainPlay(r: PlaybookResult): string {
  const failed = r.tasks.filter((t) => t.failed).map((t) => `${t.host}: ${t.task}: ${t.msg ?? ''}\n${t.stdout ?? ''}`);
  return `exit ${r.exitCode}; stats ${JSON.stringify(r.stats)}\n${failed.join('\n') || r.stdout.slice(-4000)}\n--- stderr\n${r.stderr.slice(-3000)}`;
}
