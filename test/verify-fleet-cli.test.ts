/**
 * verify with several senders, at the command line: bad inventories, limits and options are one
 * line and exit 2 before any ssh; the senders come from the inventory (after --limit) and --sender.
 * (In a file of its own: these spawn the CLI synchronously, which would stall the timed fleet tests.)
 */
import test from 'ava';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { fleetSenders } from '../src/commands/verify-fleet.js';

const cliFailures: Array<{ name: string; args: (dir: string) => string[]; error: RegExp }> = [
  {
    name: 'no inventory file',
    args: d => ['--inventory', join(d, 'nope')],
    error: /^netdiag: --inventory .*nope: cannot read \(no such file\)$/,
  },
  {
    name: 'an inventory construct netdiag does not know',
    args: d => ['--inventory', join(d, 'bad.ini')],
    error: /^netdiag: .*bad\.ini:2: section \[web:hostvars\] has an unknown type/,
  },
  {
    name: '--limit matching nothing',
    args: d => ['--inventory', join(d, 'good.ini'), '--limit', 'db'],
    error: /^netdiag: --limit: 'db' matches no host or group/,
  },
  {
    name: '--limit without an inventory',
    args: () => ['--sender', 'a', '--limit', 'web'],
    error: /^netdiag: --limit selects hosts of an --inventory/,
  },
  {
    name: '--json and --jsonl',
    args: () => ['--sender', 'a', '--sender', 'b', '--json', '--jsonl'],
    error: /choose one/,
  },
  {
    name: '--forks 0',
    args: () => ['--sender', 'a', '--sender', 'b', '--forks', '0'],
    error: /^netdiag: --forks: '0' is not a number/,
  },
  {
    name: 'an option as a destination in the inventory',
    args: d => ['--inventory', join(d, 'opt.txt')],
    error: /is not an ssh destination/,
  },
];
for (const c of cliFailures) {
  test(`verify refuses: ${c.name}`, t => {
    const dir = mkdtempSync(join(tmpdir(), 'nd-fleet-cli-'));
    try {
      writeFileSync(join(dir, 'bad.ini'), '[web]\n[web:hostvars]\n');
      writeFileSync(join(dir, 'good.ini'), '[web]\nweb1\n');
      writeFileSync(join(dir, 'opt.txt'), '-oProxyCommand=touch_x\n');
      const r = runCli(['verify', ...c.args(dir)]);
      t.is(r.code, 2, r.stderr);
      t.regex(r.stderr.trim(), c.error);
      t.is(r.stderr.trim().split('\n').length, 1);
      t.is(r.stdout, '');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test("senders: the inventory's after --limit, with their ssh settings, then each --sender", t => {
  const inv =
    '[web]\nweb[1:3] ansible_user=deploy\n[db]\ndb1 ansible_host=10.0.0.5 ansible_port=2222 ansible_ssh_private_key_file=/k\n';
  const fs = { readFile: () => inv, readDir: () => [], isDir: () => false };
  const got = fleetSenders({ inventory: 'hosts', limit: 'all:!web2', sender: ['root@extra'] }, fs);
  t.deepEqual(got.warnings, []);
  t.deepEqual(got.senders, [
    { name: 'web1', destination: 'deploy@web1', args: [] },
    { name: 'web3', destination: 'deploy@web3', args: [] },
    { name: 'db1', destination: '10.0.0.5', args: [], port: 2222, identity: '/k' },
    { name: 'root@extra', destination: 'root@extra', args: [] },
  ]);
});

test('group_vars and host_vars beside the inventory: files and directories, override the file, vault left out', t => {
  const dir = mkdtempSync(join(tmpdir(), 'nd-fleet-vars-'));
  try {
    mkdirSync(join(dir, 'group_vars', 'web'), { recursive: true });
    mkdirSync(join(dir, 'host_vars'));
    writeFileSync(
      join(dir, 'hosts'),
      '[web]\nweb1\nweb2.example.com ansible_user=inline\n[db]\ndb1\n[web:vars]\nansible_port=2200\n',
    );
    writeFileSync(
      join(dir, 'group_vars', 'all.yml'),
      'ansible_user: ops\nansible_ssh_common_args: -o ConnectTimeout=4\n',
    );
    writeFileSync(join(dir, 'group_vars', 'web', 'ssh.yaml'), 'ansible_port: 2222\n');
    writeFileSync(join(dir, 'group_vars', 'web', 'vault.yml'), '$ANSIBLE_VAULT;1.1;AES256\n6162\n');
    writeFileSync(join(dir, 'group_vars', 'nosuchgroup'), 'ansible_user: x\n');
    writeFileSync(join(dir, 'host_vars', 'web2.example.com'), 'ansible_host: 10.0.0.22\nansible_user: root\n');
    writeFileSync(join(dir, 'host_vars', 'db1.json'), '{"ansible_ssh_private_key_file": "/keys/db"}\n');
    const fs = {
      readFile: (p: string) => readFileSync(p, 'utf8'),
      readDir: (p: string) => (existsSync(p) ? readdirSync(p) : []),
      isDir: (p: string) => existsSync(p) && statSync(p).isDirectory(),
    };
    const got = fleetSenders({ inventory: join(dir, 'hosts'), sender: [] }, fs);
    t.deepEqual(got.senders, [
      { name: 'web1', destination: 'ops@web1', args: ['-o', 'ConnectTimeout=4'], port: 2222 },
      { name: 'web2.example.com', destination: 'root@10.0.0.22', args: ['-o', 'ConnectTimeout=4'], port: 2222 },
      { name: 'db1', destination: 'ops@db1', args: ['-o', 'ConnectTimeout=4'], identity: '/keys/db' },
    ]);
    t.deepEqual(got.warnings, [
      `${join(dir, 'group_vars', 'web', 'vault.yml')}: encrypted with ansible-vault; not read`,
    ]);
    // A broken vars file is an error naming it and its line.
    writeFileSync(join(dir, 'host_vars', 'db1.json'), 'ansible_user: [a\n');
    t.throws(() => fleetSenders({ inventory: join(dir, 'hosts'), sender: [] }, fs), {
      message: /host_vars\/db1\.json:\d+: /,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('no sender reachable: each "could not be checked" with ssh\'s reason, --json and --jsonl, exit 2', t => {
  // Port 1 on loopback: nothing listens there, so ssh's own "Connection refused" comes back at once.
  const args = ['verify', '--sender', 'root@127.0.0.1', '--sender', 'root@127.0.0.2', '--ssh-option', 'Port=1'];
  const json = runCli([...args, '--json']);
  t.is(json.code, 2, json.stderr);
  const doc = JSON.parse(json.stdout) as { ok: boolean; results: Array<{ name: string; ok: boolean; error: string }> };
  t.false(doc.ok);
  t.deepEqual(
    doc.results.map(r => [r.name, r.ok]),
    [
      ['root@127.0.0.1', false],
      ['root@127.0.0.2', false],
    ],
  );
  t.regex(doc.results[0]!.error, /Connection refused|connect to host/);
  const lines = runCli([...args, '--jsonl']);
  t.is(lines.code, 2);
  const docs = lines.stdout
    .trim()
    .split('\n')
    .map(l => JSON.parse(l) as { name: string; error: string });
  t.deepEqual(
    docs.map(d => d.name).sort(),
    ['root@127.0.0.1', 'root@127.0.0.2'],
    'one line per sender, in the order they finished',
  );
  t.is(docs.length, 2);
  const text = runCli(args);
  t.regex(
    text.stdout,
    /^root@127\.0\.0\.1\s+not checked\s+ssh: connect to host 127\.0\.0\.1 port 1: Connection refused$/m,
  );
  t.regex(text.stdout, /INCOMPLETE: 2 senders: 0 work, 0 broken, 2 could not be checked/);
});
