/**
 * Inventories as administrators keep them for Ansible (INI and YAML), plain lists of ssh
 * destinations, and --limit patterns. Tables of cases, the failures first.
 */
import test from 'ava';
import {
  parseInventory,
  selectHosts,
  sshTarget,
  inventoryFormat,
  InventoryError,
} from '../src/fleet/inventory/index.js';
import { expandHostRange, splitWords } from '../src/fleet/inventory/words.js';

// ---- inventories that must be refused, with the file and line named ----------------------------

const bad: Array<{ name: string; file: string; text: string; error: RegExp }> = [
  {
    name: 'INI: unknown section type',
    file: 'hosts',
    text: '[web]\na\n[web:hostvars]\nx=1\n',
    error: /^hosts:3: section \[web:hostvars\] has an unknown type 'hostvars'/,
  },
  {
    name: 'INI: space in a section name',
    file: 'hosts',
    text: '[web servers]\n',
    error: /^hosts:1: '\[web servers\]' is not a section header/,
  },
  { name: 'INI: unclosed section', file: 'hosts', text: '# c\n[web\n', error: /^hosts:2: .*not a section header/ },
  {
    name: 'INI: host variable without =',
    file: 'inv.ini',
    text: '[web]\nweb1 ansible_user\n',
    error: /^inv.ini:2: expected key=value after the host name, got 'ansible_user'/,
  },
  {
    name: 'INI: open quote',
    file: 'inv.ini',
    text: "web1 ansible_ssh_common_args='-o X\n",
    error: /^inv.ini:1: no closing quotation/,
  },
  {
    name: 'INI: vars line without =',
    file: 'inv.ini',
    text: '[all:vars]\nansible_user root\n',
    error: /^inv.ini:2: expected key=value in \[all:vars\]/,
  },
  {
    name: 'INI: children line with two names',
    file: 'inv.ini',
    text: '[prod:children]\nweb db\n',
    error: /^inv.ini:2: 'web db' is not a group name/,
  },
  {
    name: 'INI: group loop',
    file: 'inv.ini',
    text: '[a:children]\nb\n[b:children]\na\n',
    error: /^inv.ini:4: 'a' as a child of 'b' makes a loop/,
  },
  {
    name: 'INI: all as a child',
    file: 'inv.ini',
    text: '[a:children]\nall\n',
    error: /^inv.ini:2: 'all' cannot be a child/,
  },
  {
    name: 'INI: range without end',
    file: 'inv.ini',
    text: 'web[01:]\n',
    error: /^inv.ini:1: host range '\[01:\]' has no end/,
  },
  {
    name: 'INI: range of unequal widths',
    file: 'inv.ini',
    text: '\n\nweb[01:100]\n',
    error: /^inv.ini:3: .*leading zero needs an end of the same width/,
  },
  { name: 'INI: backwards range', file: 'inv.ini', text: 'web[9:1]\n', error: /ends before it begins/ },
  { name: 'INI: range of words', file: 'inv.ini', text: 'web[aa:zz]\n', error: /neither numbers nor single letters/ },
  { name: 'INI: huge range', file: 'inv.ini', text: 'web[0:99999999]\n', error: /more than 100000 names/ },
  { name: 'INI: unbalanced bracket', file: 'inv.ini', text: 'web[1:3\n', error: /unbalanced '\['/ },
  {
    name: 'YAML: unknown group key',
    file: 'inv.yml',
    text: 'all:\n  hosts:\n    a:\n  host_vars:\n    a: 1\n',
    error: /^inv.yml:4: 'host_vars' in group 'all' is not an inventory key \(hosts, vars or children\)/,
  },
  {
    name: 'YAML: hosts as a list',
    file: 'inv.yml',
    text: 'all:\n  hosts:\n    - a\n    - b\n',
    error: /^inv.yml:3: 'hosts' of group 'all' must be a mapping .*not a list/,
  },
  {
    name: 'YAML: group as a string',
    file: 'inv.yaml',
    text: 'web: a\n',
    error: /^inv.yaml:1: group 'web' must be a mapping .*not 'a'/,
  },
  { name: 'YAML: syntax error', file: 'inv.yml', text: 'all:\n  hosts:\n    a: [\n', error: /^inv.yml:\d+: / },
  {
    name: 'YAML: duplicate key',
    file: 'inv.yml',
    text: 'all:\n  vars:\n    x: 1\n    x: 2\n',
    error: /^inv.yml:4: .*[Uu]nique/,
  },
  {
    name: 'YAML: two documents',
    file: 'inv.yml',
    text: 'all:\n  hosts:\n    a:\n---\nall:\n',
    error: /^inv.yml:4: more than one YAML document/,
  },
  {
    name: 'YAML: host variables as a list',
    file: 'inv.yml',
    text: 'all:\n  hosts:\n    a:\n      - x\n',
    error: /^inv.yml:4: host 'a' must be a mapping/,
  },
  {
    name: 'YAML: bad range in a host key',
    file: 'inv.yml',
    text: 'all:\n  hosts:\n    web[3:1]:\n',
    error: /^inv.yml:3: host range '\[3:1\]' ends before it begins/,
  },
];
for (const c of bad) {
  test(`inventory refused: ${c.name}`, t => {
    const e = t.throws(() => parseInventory(c.text, c.file));
    t.true(e instanceof InventoryError, String(e));
    t.regex(e.message, c.error);
    t.false(e.message.includes('\n'), 'one line');
  });
}

const badTargets: Array<{ name: string; file: string; text: string; host: string; error: RegExp }> = [
  {
    name: 'a template in ansible_host',
    file: 'inv.ini',
    text: '[web]\nw1 ansible_host="{{ lookup(\'x\') }}"\n',
    host: 'w1',
    error: /^inv.ini:2: ansible_host for 'w1' is a Jinja template/,
  },
  {
    name: 'a port that is no port',
    file: 'inv.ini',
    text: '[all:vars]\nansible_port=ssh\n[web]\nw1\n',
    host: 'w1',
    error: /^inv.ini:2: ansible_port 'ssh' for 'w1' is not a port/,
  },
  {
    name: 'a local connection',
    file: 'inv.yml',
    text: 'all:\n  hosts:\n    me:\n      ansible_connection: local\n',
    host: 'me',
    error: /^inv.yml:4: 'me' has ansible_connection=local/,
  },
  {
    name: 'a list as ssh args',
    file: 'inv.yml',
    text: 'all:\n  vars:\n    ansible_ssh_common_args: [a, b]\n  hosts:\n    h:\n',
    host: 'h',
    error: /^inv.yml:3: ansible_ssh_common_args for 'h' is a list/,
  },
  {
    name: 'an option as destination',
    file: 'list',
    text: '-oProxyCommand=x\n',
    host: '-oProxyCommand=x',
    error: /is not an ssh destination/,
  },
  {
    name: 'an open quote in common args',
    file: 'inv.ini',
    text: '[all:vars]\nansible_ssh_common_args=-o "ProxyJump=x\n[g]\nh\n',
    host: 'h',
    error: /^inv.ini:2: ansible_ssh_common_args for 'h': no closing quotation/,
  },
];
for (const c of badTargets) {
  test(`ssh target refused: ${c.name}`, t => {
    const inv = parseInventory(c.text, c.file);
    const e = t.throws(() => sshTarget(inv, c.host));
    t.regex(e.message, c.error);
  });
}

const badLimits: Array<{ pattern: string; error: RegExp }> = [
  { pattern: 'nosuch', error: /--limit: 'nosuch' matches no host or group in inv.ini/ },
  { pattern: 'web:!typo', error: /'typo' matches no host or group/ },
  { pattern: '~web[', error: /is not a regular expression/ },
  { pattern: ' , ', error: /empty pattern/ },
];
const limitInv = parseInventory('[web]\nweb[1:3]\n[db]\ndb1\n', 'inv.ini');
for (const c of badLimits) {
  test(`--limit refused: '${c.pattern}'`, t => {
    t.throws(() => selectHosts(limitInv, c.pattern), { message: c.error });
  });
}

// ---- inventories that parse ------------------------------------------------------------------

const INI = `# the fleet
bastion.example.com ansible_port=2200

[web]
web[01:03].example.com
web-[a:b] ansible_host=10.0.0.9   # a comment
[db]
db1 ansible_host=10.1.0.1 ansible_user=admin ansible_ssh_private_key_file=/keys/db ansible_ssh_common_args='-o ProxyJump=bastion -o "ServerAliveInterval 5"'
db2:2222

[prod:children]
web
db

[prod:vars]
ansible_user = deploy
ansible_ssh_common_args="-o StrictHostKeyChecking=yes"

[web:vars]
ansible_user=www

[all:vars]
ansible_user=root
`;

const YAML = `all:
  hosts:
    bastion.example.com:
      ansible_port: 2200
  vars:
    ansible_user: root
  children:
    prod:
      vars:
        ansible_user: deploy
        ansible_ssh_common_args: -o StrictHostKeyChecking=yes
      children:
        web:
          hosts:
            web[01:03].example.com:
            web-[a:b]:
              ansible_host: 10.0.0.9
          vars:
            ansible_user: www
        db:
          hosts:
            db1:
              ansible_host: 10.1.0.1
              ansible_user: admin
              ansible_ssh_private_key_file: /keys/db
              ansible_ssh_common_args: -o ProxyJump=bastion -o "ServerAliveInterval 5"
            db2:2222:
`;

for (const [form, text, file] of [
  ['INI', INI, 'hosts'],
  ['YAML', YAML, 'hosts.yml'],
] as const) {
  test(`${form}: hosts in file order, groups, children, ranges`, t => {
    const inv = parseInventory(text, file);
    t.deepEqual(inv.hosts, [
      'bastion.example.com',
      'web01.example.com',
      'web02.example.com',
      'web03.example.com',
      'web-a',
      'web-b',
      'db1',
      'db2',
    ]);
    t.deepEqual(selectHosts(inv, 'prod'), inv.hosts.slice(1));
    t.deepEqual(selectHosts(inv, 'ungrouped'), ['bastion.example.com']);
    t.deepEqual(selectHosts(inv, 'all'), inv.hosts);
  });

  test(`${form}: variables resolve host > deeper group > parent group > all`, t => {
    const inv = parseInventory(text, file);
    t.deepEqual(sshTarget(inv, 'bastion.example.com'), {
      name: 'bastion.example.com',
      destination: 'root@bastion.example.com',
      port: 2200,
      args: [],
    });
    t.deepEqual(sshTarget(inv, 'web02.example.com'), {
      name: 'web02.example.com',
      destination: 'www@web02.example.com',
      args: ['-o', 'StrictHostKeyChecking=yes'],
    });
    t.deepEqual(sshTarget(inv, 'web-b'), {
      name: 'web-b',
      destination: 'www@10.0.0.9',
      args: ['-o', 'StrictHostKeyChecking=yes'],
    });
    t.deepEqual(sshTarget(inv, 'db1'), {
      name: 'db1',
      destination: 'admin@10.1.0.1',
      identity: '/keys/db',
      args: ['-o', 'ProxyJump=bastion', '-o', 'ServerAliveInterval 5'],
    });
    t.deepEqual(sshTarget(inv, 'db2'), {
      name: 'db2',
      destination: 'deploy@db2',
      port: 2222,
      args: ['-o', 'StrictHostKeyChecking=yes'],
    });
  });
}

test('INI and YAML forms of one inventory give the same targets', t => {
  const a = parseInventory(INI, 'hosts'),
    b = parseInventory(YAML, 'hosts.yml');
  t.deepEqual(
    a.hosts.map(h => sshTarget(a, h)),
    b.hosts.map(h => sshTarget(b, h)),
  );
});

test('a plain list of ssh destinations, one per line', t => {
  const inv = parseInventory('# log server A\nroot@10.0.0.2\n\nadmin@web1:2222\n  web2  \nfd00::5\n', 'senders.txt');
  t.deepEqual(
    inv.hosts.map(h => sshTarget(inv, h)),
    [
      { name: 'root@10.0.0.2', destination: 'root@10.0.0.2', args: [] },
      { name: 'admin@web1', destination: 'admin@web1', port: 2222, args: [] },
      { name: 'web2', destination: 'web2', args: [] },
      { name: 'fd00::5', destination: 'fd00::5', args: [] },
    ],
  );
});

test('a host named in several groups is one host; its variables merge', t => {
  const inv = parseInventory('[a]\nh x=1\n[b]\nh ansible_user=u\n[a:vars]\nansible_user=g\n', 'i');
  t.deepEqual(inv.hosts, ['h']);
  t.is(sshTarget(inv, 'h').destination, 'u@h');
});

test('YAML: anchors and aliases, an empty group, numbers as names', t => {
  const inv = parseInventory(
    'all:\n  children:\n    empty:\n    racks:\n      vars: &v\n        ansible_user: ops\n      hosts:\n        10.0.0.7:\n        42:\n    other:\n      vars: *v\n      hosts:\n        o1:\n',
    'inv.yaml',
  );
  t.deepEqual(inv.hosts, ['10.0.0.7', '42', 'o1']);
  t.is(sshTarget(inv, 'o1').destination, 'ops@o1');
  t.true(inv.groups.has('empty'));
});

test('empty files are empty inventories', t => {
  t.deepEqual(parseInventory('', 'x').hosts, []);
  t.deepEqual(parseInventory('# nothing\n', 'x.yml').hosts, []);
});

// ---- --limit ---------------------------------------------------------------------------------

const patternCases: Array<{ pattern: string; want: string[] }> = [
  { pattern: 'all', want: ['web1', 'web2', 'web3', 'db1', 'db2', 'lb'] },
  { pattern: '*', want: ['web1', 'web2', 'web3', 'db1', 'db2', 'lb'] },
  { pattern: 'db', want: ['db1', 'db2'] },
  { pattern: 'web2', want: ['web2'] },
  { pattern: 'db:lb', want: ['db1', 'db2', 'lb'] },
  { pattern: 'lb,db1', want: ['db1', 'lb'] },
  { pattern: 'web*', want: ['web1', 'web2', 'web3'] },
  { pattern: 'web[!1]', want: ['web2', 'web3'] },
  { pattern: '*1', want: ['web1', 'db1'] },
  { pattern: 'prod:!db', want: ['web1', 'web2', 'web3'] },
  { pattern: 'prod:&east', want: ['web1', 'db1'] },
  { pattern: 'all:!east:!lb', want: ['web2', 'web3', 'db2'] },
  { pattern: '!db', want: ['web1', 'web2', 'web3', 'lb'] },
  { pattern: 'web[0]', want: ['web1'] },
  { pattern: 'web[-1]', want: ['web3'] },
  { pattern: 'web[1:2]', want: ['web2', 'web3'] },
  { pattern: '~^(db|lb)', want: ['db1', 'db2', 'lb'] },
];
const patInv = parseInventory(
  '[web]\nweb[1:3]\n[db]\ndb[1:2]\n[lb]\nlb\n[prod:children]\nweb\ndb\n[east]\nweb1\ndb1\n',
  'inv.ini',
);
for (const c of patternCases) {
  test(`--limit '${c.pattern}'`, t => {
    t.deepEqual(selectHosts(patInv, c.pattern), c.want);
  });
}

// ---- the lexical pieces ----------------------------------------------------------------------

test('ranges: widths, letters, steps, several in one name', t => {
  t.deepEqual(expandHostRange('web[08:10]'), ['web08', 'web09', 'web10']);
  t.deepEqual(expandHostRange('web[8:10]'), ['web8', 'web9', 'web10']);
  t.deepEqual(expandHostRange('[a:c].x'), ['a.x', 'b.x', 'c.x']);
  t.deepEqual(expandHostRange('n[0:10:5]'), ['n0', 'n5', 'n10']);
  t.deepEqual(expandHostRange('r[1:2]-[a:b]'), ['r1-a', 'r1-b', 'r2-a', 'r2-b']);
  t.is(expandHostRange('web[01:20]').length, 20);
});

test('words split as Python shlex does', t => {
  t.deepEqual(splitWords(`a b='c d' "e \\"f\\"" g\\ h # i`, true), ['a', 'b=c d', 'e "f"', 'g h']);
  t.deepEqual(splitWords(`x#y`, true), ['x#y']);
  t.throws(() => splitWords(`'a`), { message: /no closing quotation/ });
});

test('format: YAML by extension or by its first line, INI otherwise', t => {
  t.is(inventoryFormat('a\n', 'x.yml'), 'yaml');
  t.is(inventoryFormat('# c\nall:\n  hosts:\n', 'hosts'), 'yaml');
  t.is(inventoryFormat('---\n', 'hosts'), 'yaml');
  t.is(inventoryFormat('web1:2222\n', 'hosts'), 'ini');
  t.is(inventoryFormat('[web]\n', 'hosts'), 'ini');
  t.is(inventoryFormat('root@h\n', 'hosts'), 'ini');
});
