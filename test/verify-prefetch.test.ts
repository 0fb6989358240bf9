/**
 * verify reads a sender's facts in one round trip: a shell script made from a plan, its framed
 * output parsed back. The script runs here under the real /bin/sh (and busybox sh when present);
 * everything collectSenderFacts reads must come from the batch (a miss would cost one more ssh
 * round trip each).
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectSenderFacts } from '../src/checks/host/collect.js';
import { mergeLinks, parseLinks } from '../src/checks/host/netinfo.js';
import type { ExecResult, HostExec } from '../src/io/host-exec.js';
import { batchScript, cachedExec, parseBatch, newBoundary, PEER, type BatchItem } from '../src/io/batch-exec.js';
import { localExec } from '../src/io/local-exec.js';
import { SENDER_PLAN } from '../src/verify/prefetch.js';
import { heldScript, routesAtOnce } from '../src/verify/sender-side.js';
import { addIpText } from '../src/verify/ip-text.js';
import { spawn } from 'node:child_process';

function sh(program: string, script: string, env: NodeJS.ProcessEnv = {}): Promise<ExecResult> {
  return new Promise(res => {
    execFile(
      program,
      ['-c', script],
      { env: { PATH: `${process.env.PATH}:/usr/sbin:/sbin`, LC_ALL: 'C', ...env }, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        res({ stdout, stderr, code: err ? (typeof err.code === 'number' ? err.code : 1) : 0 });
      },
    );
  });
}

const noHost: HostExec = {
  run: argv => Promise.resolve({ stdout: '', stderr: `not asked: ${argv.join(' ')}`, code: 127 }),
  readFile: () => Promise.resolve(null),
};

// Failures first: what a cut-off or garbled answer gives.
test('an answer cut off before its end line is left out; the ones before it stay', t => {
  const B = '==b==';
  const out = `${B} F /a\nA\n${B} = 0\n${B} F /b\npartial`;
  const a = parseBatch(out, B);
  t.deepEqual([...a.keys()], ['F /a']);
  t.deepEqual(a.get('F /a'), { text: 'A', code: 0 });
});

test('noise before the first answer and a foreign boundary inside a file do not confuse the parser', t => {
  const B = '==b==';
  const out = `motd line\n${B} F /a\nline with ==x== F /c\n${B} = 0\n${B} C ls -1A\n\n${B} = 2\n`;
  const a = parseBatch(out, B);
  t.deepEqual(a.get('F /a'), { text: 'line with ==x== F /c', code: 0 });
  t.deepEqual(a.get('C ls -1A'), { text: '', code: 2 });
});

test('an ip batch whose separators are missing, out of order or followed by more output gives no answer', t => {
  const B = '==netdiag-0123456789abcdef01234567==';
  const sep = 'Device "nd0123456789abcdef01234567" does not exist.';
  const key = `${B} I ip|route get 10.0.0.1|neigh show\n`;
  const bad = [
    'local 10.0.0.1 dev lo\n',
    `a\n${sep}\nCommand failed -:4\nb\n${sep}\nCommand failed -:2\n`,
    `a\n${sep}\nCommand failed -:2\nb\n${sep}\nCommand failed -:4\nlate line\n`,
  ];
  for (const body of bad) {
    const a = parseBatch(`${key}${body}\n${B} = 1\n`, B);
    t.false(a.has('C ip route get 10.0.0.1'), body);
    t.false(a.has('C ip neigh show'), body);
  }
});

test('an ip batch is cut into one answer per command; a failed one has its error and exit 2 for netlink', t => {
  const B = '==netdiag-0123456789abcdef01234567==';
  const sep = 'Device "nd0123456789abcdef01234567" does not exist.';
  const out =
    `${B} I ip|route get 10.0.0.1|neigh show\n` +
    `RTNETLINK answers: Network is unreachable\nCommand failed -:1\n${sep}\nCommand failed -:2\n` +
    `10.0.0.1 dev eth0 lladdr 52:54:00:12:34:56 REACHABLE \n${sep}\nCommand failed -:4\n\n${B} = 1\n`;
  const a = parseBatch(out, B);
  t.deepEqual(a.get('C ip route get 10.0.0.1'), { text: '', code: 2 });
  t.deepEqual(a.get('S ip route get 10.0.0.1'), { text: 'RTNETLINK answers: Network is unreachable\n', code: 0 });
  t.deepEqual(a.get('C ip neigh show'), { text: '10.0.0.1 dev eth0 lladdr 52:54:00:12:34:56 REACHABLE \n', code: 0 });
  t.false(a.has('S ip neigh show'));
});

test('nothing parseable: no answers, and every read goes to the real host', async t => {
  const c = cachedExec(noHost, parseBatch('sh: syntax error', '==b=='));
  t.is(await c.readFile('/etc/hostname'), null);
  t.is((await c.run(['uname', '-r'])).code, 127);
  t.deepEqual(c.misses, ['read /etc/hostname', 'run uname -r']);
});

for (const program of ['/bin/sh', '/bin/busybox']) {
  test(`the script under ${program}: files, listings, commands with exit codes and stderr, odd names`, async t => {
    if (program === '/bin/busybox' && (await sh('/bin/sh', 'test -x /bin/busybox')).code !== 0) {
      t.pass('busybox not installed');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'nd-batch-'));
    try {
      writeFileSync(join(dir, 'plain'), 'one\ntwo\n');
      writeFileSync(join(dir, "it's"), 'no newline at the end');
      mkdirSync(join(dir, 'conf.d'));
      writeFileSync(join(dir, 'conf.d', 'a.conf'), 'options netconsole netconsole=@/eth0,514@10.0.0.1/\n');
      writeFileSync(join(dir, 'conf.d', 'b.txt'), 'not read');
      mkdirSync(join(dir, 'tree', 't1'), { recursive: true });
      writeFileSync(join(dir, 'tree', 't1', 'enabled'), '1\n');
      // 6.9 and later: userdata/ with the sysdata switches and a directory per entry.
      mkdirSync(join(dir, 'tree', 't1', 'userdata', 'dc'), { recursive: true });
      writeFileSync(join(dir, 'tree', 't1', 'userdata', 'cpu_nr_enabled'), '1\n');
      writeFileSync(join(dir, 'tree', 't1', 'userdata', 'dc', 'value'), 'fra1\n');
      const items: BatchItem[] = [
        { kind: 'file', path: join(dir, 'plain') },
        { kind: 'file', path: join(dir, "it's") },
        { kind: 'file', path: join(dir, 'missing') },
        { kind: 'ls', path: dir },
        { kind: 'files-in', dir: join(dir, 'conf.d'), suffix: '.conf' },
        { kind: 'tree', dir: join(dir, 'tree') },
        { kind: 'run', argv: ['sh', '-c', 'echo out; echo err >&2; exit 3'] },
        { kind: 'run', argv: ['no-such-program-here'] },
        { kind: 'run', argv: ['echo', PEER] },
        {
          kind: 'ip',
          opts: [],
          commands: [
            ['route', 'get', PEER],
            ['neigh', 'show'],
          ],
        },
        {
          kind: 'ip',
          opts: [],
          commands: [['route', 'get', '203.0.113.1', 'from', '203.0.113.2', 'iif', 'nd-no-such']],
        },
      ];
      const B = newBoundary();
      const args = program.endsWith('busybox') ? ['sh'] : [];
      const r = await new Promise<ExecResult>(res =>
        execFile(
          program,
          [...args, '-c', batchScript(items, B)],
          { env: { PATH: process.env.PATH, SSH_CONNECTION: '10.9.9.1 5000 10.9.9.2 22' } },
          (err, stdout, stderr) => res({ stdout, stderr, code: err ? 1 : 0 }),
        ),
      );
      const c = cachedExec(noHost, parseBatch(r.stdout, B));
      t.is(await c.readFile(join(dir, 'plain')), 'one\ntwo\n');
      t.is(await c.readFile(join(dir, "it's")), 'no newline at the end');
      t.is(await c.readFile(join(dir, 'missing')), null);
      t.deepEqual((await c.listDir(dir))?.sort(), ['conf.d', "it's", 'plain', 'tree']);
      t.is(await c.readFile(join(dir, 'conf.d', 'a.conf')), 'options netconsole netconsole=@/eth0,514@10.0.0.1/\n');
      t.deepEqual(await c.listDir(join(dir, 'tree', 't1')), ['enabled', 'userdata']);
      t.is(await c.readFile(join(dir, 'tree', 't1', 'enabled')), '1\n');
      t.deepEqual(await c.listDir(join(dir, 'tree', 't1', 'userdata')), ['cpu_nr_enabled', 'dc']);
      t.is(await c.readFile(join(dir, 'tree', 't1', 'userdata', 'cpu_nr_enabled')), '1\n');
      t.deepEqual(await c.listDir(join(dir, 'tree', 't1', 'userdata', 'dc')), ['value']);
      t.is(await c.readFile(join(dir, 'tree', 't1', 'userdata', 'dc', 'value')), 'fra1\n');
      t.deepEqual(await c.run(['sh', '-c', 'echo out; echo err >&2; exit 3']), {
        stdout: 'out\n',
        stderr: 'err\n',
        code: 3,
      });
      t.is((await c.run(['no-such-program-here'])).code, 127);
      t.deepEqual(await c.run(['echo', '10.9.9.1']), { stdout: '10.9.9.1\n', stderr: '', code: 0 });
      // The ip batch answers each command as if run alone (when this host has iproute2's ip).
      const ip = await sh('/bin/sh', 'ip route get 10.9.9.1');
      if (ip.code === 0) t.deepEqual(await c.run(['ip', 'route', 'get', '10.9.9.1']), { ...ip, stderr: '' });
      const bad = await c.run(['ip', 'route', 'get', '203.0.113.1', 'from', '203.0.113.2', 'iif', 'nd-no-such']);
      if ((await sh('/bin/sh', 'ip -V')).code === 0) {
        t.not(bad.code, 0);
        t.regex(bad.stderr, /nd-no-such|Cannot find|not exist/);
      }
      t.deepEqual(c.misses, []);
      // What the plan did not hold goes to the real host.
      t.is(await c.readFile(join(dir, 'conf.d', 'b.txt')), null);
      t.deepEqual(c.misses, [`read ${join(dir, 'conf.d', 'b.txt')}`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('the sender plan holds everything collectSenderFacts reads on this host (one round trip)', async t => {
  const B = newBoundary();
  const r = await sh('/bin/sh', batchScript(SENDER_PLAN, B), { SSH_CONNECTION: '127.0.0.1 5000 127.0.0.1 22' });
  const c = cachedExec(localExec(), addIpText(parseBatch(r.stdout, B)));
  const facts = await collectSenderFacts(c, { remoteIp: '127.0.0.1', oneIpForLinks: true });
  t.deepEqual(c.misses, [], 'every fact from the batch');
  // And the same facts as one command each; the links and addresses from one ip process where
  // this host's ip has -j, parsed the same as from the two commands.
  const direct = await collectSenderFacts(localExec(), { remoteIp: '127.0.0.1' });
  const links = (f: typeof facts) => mergeLinks(parseLinks(f.ipLink), parseLinks(f.ipAddr));
  t.deepEqual(links(facts), links(direct));
  if (facts.ipLink?.format === 'json') {
    t.is(facts.ipLink.from, 'ip -d -j addr show');
    t.is(facts.ipAddr?.from, 'ip -d -j addr show');
  }
  const strip = (f: typeof facts) => ({
    ...f,
    kernelLog: undefined,
    neigh: undefined,
    notes: undefined,
    ipLink: undefined,
    ipAddr: undefined,
  });
  t.deepEqual(strip(facts), strip(direct));
});

test('where ip -d -j (addr show, and the batch of it with the route and neighbours) or lsmod fails, the plan reads their other sources instead, still in one round trip', async t => {
  if ((await sh('/bin/sh', 'ip -d -j link show lo')).code !== 0) {
    t.pass('no iproute2 ip with -j here');
    return;
  }
  // An ip that refuses these (as one without -j refuses every JSON one), else the real one.
  const dir = mkdtempSync(join(tmpdir(), 'nd-ip-'));
  try {
    const real = (await sh('/bin/sh', 'command -v ip')).stdout.trim();
    writeFileSync(
      join(dir, 'ip'),
      `#!/bin/sh\ncase "$*" in "-d -j addr show"|"-d -j -force -batch -") echo 'Option "-j" is unknown, try "ip -help".' >&2; exit 255;; esac\nexec ${real} "$@"\n`,
      { mode: 0o755 },
    );
    // And an lsmod that fails: /proc/modules is read instead.
    writeFileSync(join(dir, 'lsmod'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    const B = newBoundary();
    const r = await sh('/bin/sh', batchScript(SENDER_PLAN, B), {
      SSH_CONNECTION: '127.0.0.1 5000 127.0.0.1 22',
      PATH: `${dir}:${process.env.PATH}:/usr/sbin:/sbin`,
    });
    const answers = addIpText(parseBatch(r.stdout, B));
    const c = cachedExec(localExec(), answers);
    const facts = await collectSenderFacts(c, { remoteIp: '127.0.0.1', oneIpForLinks: true });
    t.deepEqual(c.misses, []);
    t.is(facts.ipLink?.from, 'ip -d -j link show');
    t.is(facts.ipAddr?.from, 'ip -j addr show');
    t.false(
      facts.notes.some(n => n.includes('ip -d -j addr show')),
      'its failure is no note',
    );
    t.true(answers.has('F /proc/modules'), 'lsmod failed: /proc/modules was read in the batch');
    if (existsSync('/proc/modules')) t.is(facts.modules?.from, '/proc/modules');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a command that fails is followed by its other way (orElse); one that works is not', async t => {
  const B = newBoundary();
  const items: BatchItem[] = [
    { kind: 'run', argv: ['sh', '-c', 'exit 4'], orElse: [{ kind: 'run', argv: ['echo', 'other'] }] },
    { kind: 'run', argv: ['echo', 'first'], orElse: [{ kind: 'run', argv: ['echo', 'not asked'] }] },
    { kind: 'file', path: '/proc/self/nonexistent-netdiag' },
  ];
  const r = await sh('/bin/sh', batchScript(items, B));
  const a = parseBatch(r.stdout, B);
  t.is(a.get('C sh -c exit 4')?.code, 4);
  t.deepEqual(a.get('C echo other'), { text: 'other\n', code: 0 });
  t.deepEqual(a.get('C echo first'), { text: 'first\n', code: 0 });
  t.false(a.has('C echo not asked'));
  t.is(a.get('F /proc/self/nonexistent-netdiag')?.code, 1, 'the items after it still run');
});

test('a command answered by a line of a file: read by the shell where it holds a whole line, else run', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'nd-batch-line-'));
  try {
    writeFileSync(join(dir, 'release'), '6.1.0-57-amd64\n');
    writeFileSync(join(dir, 'cut'), '6');
    const B = newBoundary();
    const items: BatchItem[] = [
      // No such program: only the file can answer it.
      { kind: 'run', argv: ['no-such-program-here', '-r'], line: join(dir, 'release') },
      { kind: 'run', argv: ['echo', 'ran'], line: join(dir, 'missing') },
      // One byte and no newline, as a byte-at-a-time read of an old kernel's /proc/sys gets.
      { kind: 'run', argv: ['echo', 'ran', 'too'], line: join(dir, 'cut') },
    ];
    const busybox = (await sh('/bin/sh', 'test -x /bin/busybox')).code === 0;
    for (const program of ['/bin/sh', ...(busybox ? ['/bin/busybox sh'] : [])]) {
      const script = batchScript(items, B);
      const r =
        program === '/bin/sh'
          ? await sh(program, script)
          : await sh('/bin/sh', '/bin/busybox sh -c "$S"', { S: script });
      const a = parseBatch(r.stdout, B);
      t.deepEqual(a.get('C no-such-program-here -r'), { text: '6.1.0-57-amd64\n', code: 0 }, program);
      t.deepEqual(a.get('C echo ran'), { text: 'ran\n', code: 0 }, program);
      t.deepEqual(a.get('C echo ran too'), { text: 'ran too\n', code: 0 }, program);
    }
    // The sender plan's uname -r, as uname(2) answers it here.
    const release = await sh('/bin/sh', 'uname -r');
    const a = parseBatch(
      (await sh('/bin/sh', batchScript([SENDER_PLAN.find(i => i.kind === 'run' && i.argv[0] === 'uname')!], B))).stdout,
      B,
    );
    t.deepEqual(a.get('C uname -r'), { text: release.stdout, code: 0 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

for (const program of ['/bin/sh', '/bin/busybox']) {
  test(`the held facts script under ${program}: answers, its ready line, then the trigger only after a line on stdin`, async t => {
    if (program === '/bin/busybox' && (await sh('/bin/sh', 'test -x /bin/busybox')).code !== 0) {
      t.pass('busybox not installed');
      return;
    }
    const B = newBoundary();
    const items: BatchItem[] = [{ kind: 'run', argv: ['echo', 'fact'] }];
    // A command that would take the line if it read stdin: the script keeps stdin aside meanwhile.
    items.push({ kind: 'run', argv: ['sh', '-c', 'read x; echo "read:$x"'] });
    const script = heldScript(batchScript(items, B), ['sh', '-c', 'echo triggered; exit 3']);
    const run = (line: string | undefined) =>
      new Promise<{ out: string; code: number | null; readyFirst: boolean }>(res => {
        const args = program.endsWith('busybox') ? ['sh', '-c', script] : ['-c', script];
        const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'ignore'] });
        let out = '';
        let readyFirst = false;
        child.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          if (out.includes(`\n${B} R\n`) && !child.stdin.writableEnded) {
            readyFirst = !out.includes('triggered');
            child.stdin.end(line);
          }
        });
        child.on('close', code => res({ out, code, readyFirst }));
      });
    const fired = await run('go\n');
    t.true(fired.readyFirst, 'nothing triggered before the ready line');
    const a = parseBatch(fired.out, B);
    t.deepEqual(a.get('C echo fact'), { text: 'fact\n', code: 0 });
    t.deepEqual(a.get('C sh -c read x; echo "read:$x"'), { text: 'read:\n', code: 0 });
    t.is(fired.out.slice(fired.out.indexOf(`\n${B} R\n`) + B.length + 4), 'triggered\n');
    t.is(fired.code, 3);
    const cancelled = await run(undefined);
    t.false(cancelled.out.includes('triggered'));
    t.is(cancelled.code, 0);
  });
}

test("a fleet's routes back, in one ip process, are what ip route get says for each; other commands run as asked", async t => {
  if ((await sh('/bin/sh', 'ip route get 127.0.0.1')).code !== 0) {
    t.pass('no iproute2 ip here');
    return;
  }
  let spawned = 0;
  const local = localExec();
  const counting: HostExec = { ...local, run: argv => (spawned++, local.run(argv)) };
  const r = routesAtOnce(counting, ['127.0.0.1', '127.0.0.2', '::1']);
  for (const ip of ['127.0.0.1', '127.0.0.2', '::1']) {
    const alone = await local.run(['ip', 'route', 'get', ip]);
    t.deepEqual(await r.run(['ip', 'route', 'get', ip]), { ...alone, stderr: '' }, ip);
  }
  t.is(spawned, 1, 'one process for the three');
  t.is((await r.run(['ip', 'route', 'get', '127.0.0.3'])).code, 0, 'not in the batch: run alone');
  t.is(spawned, 2);
});
