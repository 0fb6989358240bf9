import test from 'ava';
import { parseRsyslog, rsyslogIncludes } from '../src/checks/syslog/rsyslog.js';
import { parseSyslogNg, syslogNg, syslogNgIncludes } from '../src/checks/syslog/syslog-ng.js';
import { parseSysklogdOptions, sysklogdConfig } from '../src/checks/syslog/sysklogd.js';
import { conditionTakesNetconsole, selectorMatches, tagTakes } from '../src/checks/syslog/selectors.js';
import { senderLineForms, parsePrintkTime, type LineForm } from '../src/checks/syslog/line-forms.js';
import { fx } from './helpers/host-facts.js';

const fact = (p: string, from = `/etc/${p}`) => ({ text: fx(p), from });

// ---- failures first: no UDP ---------------------------------------------------------------------

test('rsyslog CentOS 6 stock: UDP lines commented out, quoted for the fix', t => {
  const c = parseRsyslog([fact('rsyslog/centos6-stock.conf', '/etc/rsyslog.conf')]);
  t.deepEqual(c.udpInputs, []);
  t.deepEqual(
    c.disabledUdp.map(d => [d.line, d.text, d.why]),
    [
      [13, '#$ModLoad imudp', 'commented out'],
      [14, '#$UDPServerRun 514', 'commented out'],
    ],
  );
  // Still says where messages would land: user.notice is in *.info.
  t.deepEqual(
    c.destinations.filter(d => d.netconsole === true).map(d => d.file),
    ['/var/log/messages'],
  );
});

test('rsyslog Debian 12 stock: RainerScript lines commented out', t => {
  const c = parseRsyslog([fact('rsyslog/debian12-stock.conf', '/etc/rsyslog.conf')]);
  t.deepEqual(c.udpInputs, []);
  t.deepEqual(
    c.disabledUdp.map(d => d.text),
    ['#module(load="imudp")', '#input(type="imudp" port="514")'],
  );
  // netconsole messages (user.notice) land in syslog and user.log, not kern.log.
  t.deepEqual(
    c.destinations.filter(d => d.netconsole === true).map(d => d.file),
    ['/var/log/syslog', '/var/log/user.log'],
  );
  t.false(c.destinations.find(d => d.file === '/var/log/kern.log')!.netconsole);
});

test('rsyslog: input without module is without effect', t => {
  const c = parseRsyslog([fact('rsyslog/input-without-module.conf')]);
  t.deepEqual(c.udpInputs, []);
  t.is(c.disabledUdp.length, 1);
  t.regex(c.disabledUdp[0]!.why, /without module\(load="imudp"\)/);
});

test('rsyslog: $UDPServerRun without $ModLoad imudp is without effect', t => {
  const c = parseRsyslog([{ text: '$UDPServerRun 514\n', from: 'x.conf' }]);
  t.deepEqual(c.udpInputs, []);
  t.regex(c.disabledUdp[0]!.why, /without \$ModLoad imudp/);
});

test('sysklogd: the seed case SYSLOGD_OPTIONS="-m 0" has no -r', t => {
  const o = parseSysklogdOptions(fact('sysklogd/centos5-sysconfig-syslog', '/etc/sysconfig/syslog'))!;
  t.is(o.options, '-m 0');
  t.is(o.line, 6);
  t.false(o.remote);
  const c = sysklogdConfig(o, fact('sysklogd/centos5-syslog.conf', '/etc/syslog.conf'));
  t.deepEqual(c.udpInputs, []);
  t.regex(c.disabledUdp[0]!.why, /no -r/);
  t.deepEqual(
    c.destinations.filter(d => d.netconsole === true).map(d => d.file),
    ['/var/log/messages'],
  );
});

test('sysklogd Debian: SYSLOGD="" has no -r', t => {
  t.false(parseSysklogdOptions(fact('sysklogd/debian-default-syslogd'))!.remote);
});

test('syslog-ng Debian stock: no network source', t => {
  const c = parseSyslogNg([fact('syslog-ng/debian-stock.conf')]);
  t.deepEqual(c.udpInputs, []);
});

// ---- UDP enabled --------------------------------------------------------------------------------

test('rsyslog CentOS 7 with UDP enabled', t => {
  const c = parseRsyslog([fact('rsyslog/centos7-udp-enabled.conf', '/etc/rsyslog.conf')]);
  t.deepEqual(
    c.udpInputs.map(i => [i.port, i.address, i.line]),
    [[514, undefined, 14]],
  );
  t.deepEqual(c.disabledUdp, []);
});

test('rsyslog: included file with a ruleset-bound input on two ports; messages go to its file only', t => {
  const c = parseRsyslog([
    fact('rsyslog/debian12-stock.conf', '/etc/rsyslog.conf'),
    fact('rsyslog/remote-ruleset.conf', '/etc/rsyslog.d/10-netconsole.conf'),
  ]);
  t.deepEqual(
    c.udpInputs.map(i => [i.port, i.ruleset, i.from, i.line]),
    [
      [514, 'netconsole', '/etc/rsyslog.d/10-netconsole.conf', 3],
      [6666, 'netconsole', '/etc/rsyslog.d/10-netconsole.conf', 3],
    ],
  );
  t.deepEqual(
    c.destinations.map(d => d.file),
    ['/var/log/netconsole.log'],
  );
});

test('rsyslog legacy: $UDPServerAddress binds, $AllowedSender listed, property filter destination', t => {
  const c = parseRsyslog([fact('rsyslog/allowed-sender.conf')]);
  t.deepEqual(
    c.udpInputs.map(i => [i.port, i.address]),
    [[514, '10.20.0.5']],
  );
  t.deepEqual(
    c.allowedSenders.map(a => a.spec),
    [['10.20.1.0/24', '127.0.0.1']],
  );
  t.deepEqual(
    c.destinations.map(d => [d.file, d.netconsole]),
    [['/var/log/db1-console.log', 'maybe']],
  );
});

test('sysklogd with -m 0 -r -x receives UDP 514', t => {
  const o = parseSysklogdOptions(fact('sysklogd/centos5-sysconfig-syslog-remote'))!;
  t.true(o.remote);
  t.deepEqual(
    sysklogdConfig(o, undefined).udpInputs.map(i => i.port),
    [514],
  );
});

test('sysklogd option clusters', t => {
  const o = (s: string) => parseSysklogdOptions({ text: `SYSLOGD_OPTIONS="${s}"`, from: 'x' })!.remote;
  t.true(o('-rx'));
  t.true(o('-m 0 -r'));
  t.false(o('-m 0 -x'));
  t.false(o('-f /etc/r.conf')); // the r is in the argument of -f
  t.true(o('-xr'));
});

test('syslog-ng conf.d udp() source and its file', t => {
  const c = parseSyslogNg([
    fact('syslog-ng/debian-stock.conf', '/etc/syslog-ng/syslog-ng.conf'),
    fact('syslog-ng/conf.d-remote-udp.conf', '/etc/syslog-ng/conf.d/remote.conf'),
  ]);
  t.deepEqual(
    c.udpInputs.map(i => [i.port, i.address, i.source, i.line]),
    [[514, undefined, 's_net', 3]],
  );
  t.deepEqual(
    c.destinations.map(d => d.file),
    ['/var/log/remote/${HOST}.log'],
  );
});

test('syslog-ng network(transport("udp")) on one address and port 6666', t => {
  const c = parseSyslogNg([fact('syslog-ng/network-transport-udp.conf')]);
  t.deepEqual(
    c.udpInputs.map(i => [i.port, i.address]),
    [[6666, '10.99.0.1']],
  );
  t.deepEqual(
    c.destinations.map(d => d.file),
    ['/var/log/netconsole.log'],
  );
});

test('includes', t => {
  t.deepEqual(rsyslogIncludes(fx('rsyslog/centos6-stock.conf')), ['/etc/rsyslog.d/*.conf']);
  t.deepEqual(rsyslogIncludes('include(file="/etc/rsyslog.d/*.conf" mode="optional")'), ['/etc/rsyslog.d/*.conf']);
  t.deepEqual(syslogNgIncludes(fx('syslog-ng/debian-stock.conf')), ['/etc/syslog-ng/conf.d/*.conf']);
});

const selectors: Array<[string, boolean]> = [
  ['kern.*', false],
  ['*.info;mail.none;authpriv.none;cron.none', true],
  ['*.*;auth,authpriv.none', true],
  ['user.*', true],
  ['*.warn', false],
  ['*.=notice', true],
  ['*.info;user.none', false],
  ['*.*;user.!notice', false],
  ['*.emerg', false],
];
for (const [sel, want] of selectors) {
  test(`selector ${sel} ${want ? 'takes' : 'does not take'} user.notice`, t => {
    t.is(selectorMatches(sel, 'user', 5), want);
  });
}

test("rsyslog: a selector with an omfile action() (the lab's configuration)", t => {
  const c = parseRsyslog([
    {
      text: 'global(workDirectory="/tmp/w")\nmodule(load="imudp")\ninput(type="imudp" address="10.99.0.1" port="514")\n*.* action(type="omfile" file="/run/lab/syslog.log")\nkern.* action(type="omfile" file="/run/lab/kern.log")\n',
      from: 'lab.conf',
    },
  ]);
  t.deepEqual(
    c.udpInputs.map(i => [i.port, i.address]),
    [[514, '10.99.0.1']],
  );
  t.deepEqual(
    c.destinations.map(d => [d.file, d.netconsole]),
    [
      ['/run/lab/syslog.log', true],
      ['/run/lab/kern.log', false],
    ],
  );
});

// ---- RainerScript conditions and blocks: netconsole's messages are user.notice ----------------------

const conditions: Array<[string, boolean | 'maybe']> = [
  ['$syslogfacility-text == "kern"', false],
  ["$syslogfacility-text == 'user'", true],
  ['$syslogfacility-text != "kern"', true],
  ['$syslogfacility == 0', false],
  ['$syslogseverity <= 4', false],
  ['$syslogseverity <= 6', true],
  ['$syslogseverity-text == "notice"', true],
  // Names compared with < or > are compared as strings by rsyslog: not judged.
  ['$syslogseverity-text <= "warning"', 'maybe'],
  ['prifilt("kern.*")', false],
  ['prifilt("*.info")', true],
  ['$fromhost-ip == "10.0.0.2"', 'maybe'],
  ['$fromhost-ip == "10.0.0.2" and $syslogfacility-text == "kern"', false],
  ['$fromhost-ip == "10.0.0.2" or $syslogfacility-text == "kern"', 'maybe'],
  ['$fromhost-ip == "10.0.0.2" or $syslogfacility-text == "user"', true],
  ['($syslogfacility-text == "kern")', false],
  ['not $syslogfacility-text == "kern"', true],
  ['$msg contains "a and b"', 'maybe'],
];
for (const [cond, want] of conditions) {
  test(`condition ${cond}: ${String(want)} for user.notice`, t => {
    t.is(conditionTakesNetconsole(cond), want);
  });
}

// What rsyslog 8.2302 made of real netconsole lines (fixtures/real, replayed to it in a network
// namespace; fixtures/checks/README.md): with printk timestamps $programname and $syslogtag are
// empty and $app-name is "-"; extended lines' tag is "LEVEL,SEQ,USEC,-;" and the first word; plain
// lines without timestamps give the kernel's first or second word.
const tagConditions: Array<[string, LineForm[], boolean | 'maybe']> = [
  // failures first: rules that never take netconsole's lines once their form is known
  ["$programname == 'kernel'", ['plain-ts'], false],
  ["$programname == 'kernel'", ['extended'], false],
  ["$programname == 'kernel'", ['plain-ts', 'extended'], false],
  ["$syslogtag startswith 'kernel'", ['plain-ts'], false],
  ["$syslogtag startswith 'kernel'", ['extended'], false],
  ["$syslogtag contains 'kernel'", ['plain-ts'], false],
  ["$programname startswith '6,'", ['plain-ts'], false],
  ["$programname == 'kernel' and $syslogfacility-text == 'user'", ['plain-ts'], false],
  ["$app-name == ''", ['plain-ts'], false],
  // what they take
  ["$programname != 'kernel'", ['plain-ts', 'extended'], true],
  ["not ($programname == 'kernel')", ['extended'], true],
  ["$programname == ''", ['plain-ts'], true],
  ["$app-name == '-'", ['plain-ts'], true],
  ["$programname == 'kernel' or $syslogfacility-text == 'user'", ['plain'], true],
  // where the kernel's own words decide
  ["$programname == 'kernel'", ['plain'], 'maybe'],
  ["$programname == 'kernel'", ['plain-ts', 'plain', 'extended'], 'maybe'],
  ["$programname startswith '6,'", ['extended'], 'maybe'],
  ["$syslogtag contains 'kernel'", ['extended'], 'maybe'],
  ["$programname == 'kernel' and $msg contains 'x'", ['plain-ts'], false],
];
for (const [cond, forms, want] of tagConditions) {
  test(`condition ${cond} for lines ${forms.join(', ')}: ${String(want)}`, t => {
    t.is(conditionTakesNetconsole(cond, '10.99.0.2', forms), want);
  });
}

test('rsyslog property filters on the tag, as rsyslog 8.2302 took the lines (isequal, startswith, contains, isempty, negated)', t => {
  t.is(tagTakes('programname', 'isequal', 'kernel', ['plain-ts']), false);
  t.is(tagTakes('programname', '!isequal', 'kernel', ['plain-ts', 'extended']), true);
  t.is(tagTakes('programname', 'isempty', '', ['plain-ts']), true);
  t.is(tagTakes('programname', 'isempty', '', ['extended']), false);
  t.is(tagTakes('programname', 'contains', 'ACPI', ['extended']), 'maybe');
  t.is(tagTakes('syslogtag', 'startswith', 'kernel', ['extended']), false);
  t.is(tagTakes('programname', 'regex', '^k', ['plain-ts']), 'maybe');
});

test("the forms of a sender's lines: extended alone, else plain with or without timestamps as printk says", t => {
  t.deepEqual(senderLineForms(true, undefined), ['extended']);
  t.deepEqual(senderLineForms(false, true), ['plain-ts']);
  t.deepEqual(senderLineForms(false, false), ['plain']);
  t.deepEqual(senderLineForms(false, undefined), ['plain-ts', 'plain']);
  t.deepEqual(senderLineForms(undefined, true), ['plain-ts', 'plain', 'extended']);
  t.is(parsePrintkTime('Y\n'), true);
  t.is(parsePrintkTime('N\n'), false);
  t.is(parsePrintkTime(''), undefined);
});

test("rsyslog: rules selecting by program name never write netconsole's lines once their form is known (walked)", t => {
  const files = [fact('rsyslog/walked-programname.conf')];
  const rows = (forms?: LineForm[]) =>
    parseRsyslog(files, '10.99.0.2', forms).destinations.map(d => [d.file, d.netconsole]);
  t.deepEqual(rows(['plain-ts']), [
    ['/var/log/remote/haproxy.log', false],
    ['/var/log/remote/kernel.log', false],
  ]);
  t.deepEqual(rows(['extended']), rows(['plain-ts']));
  // Without the sender's form, a plain line without timestamps might start "host kernel ...".
  t.deepEqual(rows(), [
    ['/var/log/remote/haproxy.log', 'maybe'],
    ['/var/log/remote/kernel.log', 'maybe'],
  ]);
});

test("rsyslog: an action inside if/else blocks takes the blocks' conditions; nothing else writes", t => {
  const c = parseRsyslog([fact('rsyslog/remote-kern-only.conf')]);
  t.deepEqual(
    c.destinations.map(d => [d.file, d.selector, d.netconsole, d.line]),
    [['/var/log/remote/%FROMHOST-IP%/kern.log', 'ruleset remote: if $syslogfacility-text == "kern"', false, 10]],
  );
  t.false(c.otherOutputs);
});

test('rsyslog: else branches, nested blocks, and the one-line if', t => {
  const text = [
    'module(load="imudp")',
    'input(type="imudp" port="514")',
    'if $syslogfacility-text == "kern" then {',
    '  action(type="omfile" file="/var/log/kern.log")',
    '} else if $syslogseverity <= 3 then {',
    '  action(type="omfile" file="/var/log/errors.log")',
    '} else {',
    '  if $fromhost-ip == "10.0.0.2" then {',
    '    action(type="omfile" file="/var/log/db.log")',
    '  }',
    '  action(type="omfile" file="/var/log/rest.log")',
    '}',
    'if $syslogfacility-text == "kern" then /var/log/kern2.log',
    ':syslogfacility-text, isequal, "user" /var/log/user.log',
    '',
  ].join('\n');
  const c = parseRsyslog([{ text, from: 'r.conf' }]);
  t.deepEqual(
    c.destinations.map(d => [d.file, d.netconsole]),
    [
      ['/var/log/kern.log', false],
      ['/var/log/errors.log', false],
      ['/var/log/db.log', 'maybe'],
      ['/var/log/rest.log', true],
      ['/var/log/kern2.log', false],
      ['/var/log/user.log', true],
    ],
  );
  t.false(c.otherOutputs);
});

test('rsyslog: forwarding or another ruleset that may take the messages counts as an output', t => {
  const base = 'module(load="imudp")\ninput(type="imudp" port="514")\nkern.* /var/log/kern.log\n';
  for (const extra of ['*.* @@central:514', 'action(type="omfwd" target="central" port="514")', 'call other']) {
    const c = parseRsyslog([{ text: base + extra + '\n', from: 'r.conf' }]);
    t.true(c.otherOutputs, extra);
  }
  // Forwarding only kern messages, or discarding, does not.
  for (const extra of ['kern.* @@central:514', '*.* ~', 'if $syslogfacility-text == "kern" then @@central:514']) {
    const c = parseRsyslog([{ text: base + extra + '\n', from: 'r.conf' }]);
    t.false(c.otherOutputs, extra);
  }
});

test('rsyslog: a dynaFile names its template, RainerScript or legacy: the template path is where messages land', t => {
  const c = parseRsyslog([fact('rsyslog/remote-kern-only.conf')]);
  t.deepEqual(
    c.destinations.map(d => d.file),
    ['/var/log/remote/%FROMHOST-IP%/kern.log'],
  );
  const legacy = parseRsyslog([
    {
      text: '$ModLoad imudp\n$UDPServerRun 514\n$template RemoteHost,"/var/log/hosts/%HOSTNAME%/messages"\n*.info ?RemoteHost\n',
      from: 'rsyslog.conf',
    },
  ]);
  t.deepEqual(
    legacy.destinations.map(d => [d.file, d.netconsole]),
    [['/var/log/hosts/%HOSTNAME%/messages', true]],
  );
  // A list template, or one not defined, keeps the dynaFile's name.
  const list = parseRsyslog([
    {
      text: 'module(load="imudp")\ninput(type="imudp" port="514")\ntemplate(name="T" type="list") { constant(value="/var/log/x") }\n*.* action(type="omfile" dynaFile="T")\n*.* ?Undefined\n',
      from: 'r.conf',
    },
  ]);
  t.deepEqual(
    list.destinations.map(d => d.file),
    ['dynaFile T', 'dynaFile Undefined'],
  );
});

// ---- discards (`stop`, `~`, `& stop`) and rules on the sender's address ----------------------------

test('rsyslog: $fromhost-ip is judged against the sender when it is known', t => {
  const rows: Array<[string, string | undefined, boolean | 'maybe']> = [
    ['$fromhost-ip == "10.0.0.2"', undefined, 'maybe'],
    ['$fromhost-ip == "10.0.0.2"', '10.0.0.2', true],
    ['$fromhost-ip == "10.0.0.2"', '10.0.0.3', false],
    ['$fromhost-ip != "10.0.0.2"', '10.0.0.2', false],
    ["$fromhost-ip startswith '10.0.'", '10.0.0.9', true],
    ['not ($fromhost-ip startswith "192.168.")', '10.0.0.9', true],
    ['$fromhost-ip == "10.0.0.2" and $syslogfacility-text == "user"', '10.0.0.2', true],
    ['$fromhost == "db1"', '10.0.0.2', 'maybe'],
  ];
  for (const [cond, ip, want] of rows) t.is(conditionTakesNetconsole(cond, ip), want, `${cond} from ${ip}`);
});

test('rsyslog: a stop for the sender in an included file comes before the main file rules after $IncludeConfig', t => {
  const files = [
    { text: fx('rsyslog/debian-udp-include.conf'), from: '/etc/rsyslog.conf' },
    { text: fx('rsyslog/drop-sender-before-syslog.conf'), from: '/etc/rsyslog.d/05-quiet.conf' },
  ];
  const dest = (ip?: string) =>
    parseRsyslog(files, ip).destinations.map(d => [d.file, d.netconsole, d.discardedBy?.line]);
  t.deepEqual(dest('10.99.0.2'), [
    ['/var/log/syslog', false, 3],
    ['/var/log/kern.log', false, 3],
  ]);
  t.deepEqual(dest('10.99.0.3'), [
    ['/var/log/syslog', true, undefined],
    ['/var/log/kern.log', false, undefined],
  ]);
  t.deepEqual(dest(undefined), [
    ['/var/log/syslog', 'maybe', undefined],
    ['/var/log/kern.log', false, undefined],
  ]);
});

test('rsyslog: an include inside a block comment does not read the included file there', t => {
  const files = [
    {
      text: [
        'module(load="imudp")',
        'input(type="imudp" port="514")',
        '/* before the rules, as it was:',
        '$IncludeConfig /etc/rsyslog.d/*.conf',
        '*/',
        '*.* /var/log/syslog',
        '$IncludeConfig /etc/rsyslog.d/*.conf',
        '',
      ].join('\n'),
      from: '/etc/rsyslog.conf',
    },
    { text: 'if $fromhost-ip == "10.99.0.2" then stop\n', from: '/etc/rsyslog.d/05-quiet.conf' },
  ];
  // The stop is read at line 7, after the file rule: the file still takes the sender's messages.
  t.deepEqual(
    parseRsyslog(files, '10.99.0.2').destinations.map(d => [d.file, d.netconsole]),
    [['/var/log/syslog', true]],
  );
});

test('rsyslog: discards end the way for the rules after them only', t => {
  const base = 'module(load="imudp")\ninput(type="imudp" port="514")\n';
  const cases: Array<[string, string[], Array<[string, boolean | 'maybe']>]> = [
    [
      'legacy ~ on a property filter',
      [':fromhost-ip, isequal, "10.0.0.2" ~', '*.* /var/log/all.log'],
      [['/var/log/all.log', false]],
    ],
    [
      '& stop after a file',
      ['*.* /var/log/first.log', '& stop', '*.* /var/log/after.log'],
      [
        ['/var/log/first.log', true],
        ['/var/log/after.log', false],
      ],
    ],
    [
      '& ~ after a kern rule keeps user',
      ['kern.* /var/log/kern.log', '& ~', '*.* /var/log/all.log'],
      [
        ['/var/log/kern.log', false],
        ['/var/log/all.log', true],
      ],
    ],
    [
      'one-line block with stop',
      [
        'if $fromhost-ip == "10.0.0.2" then { action(type="omfile" file="/var/log/nc.log") stop }',
        '*.* /var/log/all.log',
      ],
      [
        ['/var/log/nc.log', true],
        ['/var/log/all.log', false],
      ],
    ],
    [
      'another sender stopped',
      ['if $fromhost-ip == "10.0.0.7" then stop', '*.* /var/log/all.log'],
      [['/var/log/all.log', true]],
    ],
    [
      'a stop in a block',
      ['if $msg contains "noise" then {', '  stop', '}', '*.* /var/log/all.log'],
      [['/var/log/all.log', 'maybe']],
    ],
  ];
  for (const [name, lines, want] of cases) {
    const c = parseRsyslog([{ text: base + lines.join('\n') + '\n', from: 'r.conf' }], '10.0.0.2');
    t.deepEqual(
      c.destinations.map(d => [d.file, d.netconsole]),
      want,
      name,
    );
  }
  // The stop after the include line reads after the included file's rule: that rule still writes.
  const c = parseRsyslog(
    [
      { text: base + 'include(file="/etc/rsyslog.d/*.conf")\n*.* stop\n', from: '/etc/rsyslog.conf' },
      { text: '*.* /var/log/nc.log\n', from: '/etc/rsyslog.d/nc.conf' },
    ],
    '10.0.0.2',
  );
  t.deepEqual(
    c.destinations.map(d => [d.file, d.netconsole]),
    [['/var/log/nc.log', true]],
  );
  // A directory include: its files are read where the include stands, before the main file's rules.
  const dir = parseRsyslog(
    [
      { text: base + 'include(file="/etc/rsyslog.d/")\n*.* /var/log/syslog\n', from: '/etc/rsyslog.conf' },
      { text: 'if $fromhost-ip == "10.0.0.2" then stop\n', from: '/etc/rsyslog.d/quiet.conf' },
    ],
    '10.0.0.2',
  );
  t.deepEqual(
    dir.destinations.map(d => [d.file, d.netconsole]),
    [['/var/log/syslog', false]],
  );
});

test('rsyslog legacy: $InputUDPServerBindRuleset binds the $UDPServerRun after it to its $RuleSet', t => {
  const text = [
    '$ModLoad imudp',
    '$RuleSet remote',
    '*.* /var/log/remote.log',
    '$RuleSet RSYSLOG_DefaultRuleset',
    '*.* /var/log/syslog',
    '$InputUDPServerBindRuleset remote',
    '$UDPServerRun 514',
    '',
  ].join('\n');
  const c = parseRsyslog([{ text, from: '/etc/rsyslog.conf' }]);
  t.deepEqual(
    c.udpInputs.map(i => [i.port, i.ruleset]),
    [[514, 'remote']],
  );
  t.deepEqual(
    c.destinations.map(d => d.file),
    ['/var/log/remote.log'],
  );
});

test("syslog-ng's fix for an input on another port: its own driver, the port replaced or added", t => {
  const fix = (text: string, port: number) =>
    syslogNg.portFix!({ port, from: '/etc/syslog-ng/syslog-ng.conf', line: 3, text }, 6666).replace(/^.*?:3, /, '');
  t.is(
    fix('udp()', 514),
    'udp(port(6666)), then systemctl restart syslog-ng (or send to 514: netconsole=...,514@..., SYSLOGPORT=514)',
  );
  t.regex(fix('network(transport("udp") port(514))', 514), /^network\(transport\("udp"\) port\(6666\)\), then/);
  t.regex(fix('udp(ip(0.0.0.0) localport(5140))', 5140), /^udp\(ip\(0.0.0.0\) port\(6666\)\), then .*send to 5140/);
});
