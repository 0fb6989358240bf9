/**
 * `ip route get` and `ip neigh show` written from `ip -d -j` (what verify asks the sender in one
 * ip process): the same text as iproute2 prints, checked against this host's own ip and against
 * outputs recorded on the lab's guests and log server (iproute2 6.1), or no text at all.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { parseNeigh, parseRouteGet } from '../src/checks/host/netinfo.js';
import type { BatchAnswers } from '../src/io/batch-exec.js';
import { addIpText, neighText, routeGetText } from '../src/verify/ip-text.js';

function ip(args: string[]): Promise<{ stdout: string; code: number }> {
  return new Promise(res =>
    execFile('ip', args, { env: { PATH: `${process.env.PATH}:/usr/sbin:/sbin`, LC_ALL: 'C' } }, (err, stdout) =>
      res({ stdout, code: err ? 1 : 0 }),
    ),
  );
}

// Recorded on the lab (a 6.1 guest, its log server, and a host with a default route): the JSON
// of `ip -d -j ...` and the text of the same command without -d -j, byte for byte.
const RECORDED: Array<[string, string, string]> = [
  [
    'a guest to its log server',
    '[{"type":"unicast","dst":"10.99.0.1","dev":"eth0","table":"main","prefsrc":"10.99.0.2","flags":[],"uid":0,"cache":[]}]',
    '10.99.0.1 dev eth0 src 10.99.0.2 uid 0 \n    cache \n',
  ],
  [
    'a local address',
    '[{"type":"local","dst":"10.99.0.1","dev":"lo","table":"main","prefsrc":"10.99.0.1","flags":[],"uid":0,"cache":["local"]}]',
    'local 10.99.0.1 dev lo src 10.99.0.1 uid 0 \n    cache <local> \n',
  ],
  [
    'IPv6 on the link',
    '[{"type":"unicast","dst":"fd99::2","from":"::","dev":"ndb-verify-a","table":"main","protocol":"kernel","scope":"global","prefsrc":"fd99::1","metric":256,"flags":[],"pref":"medium"}]',
    'fd99::2 from :: dev ndb-verify-a proto kernel src fd99::1 metric 256 pref medium\n',
  ],
  [
    'IPv6, local',
    '[{"type":"local","dst":"::1","from":"::","dev":"lo","table":"local","protocol":"kernel","scope":"global","prefsrc":"::1","metric":0,"flags":[],"pref":"medium"}]',
    'local ::1 from :: dev lo table local proto kernel src ::1 metric 0 pref medium\n',
  ],
  [
    'through a gateway',
    '[{"type":"unicast","dst":"8.8.8.8","gateway":"192.0.2.1","dev":"eth0","table":"main","prefsrc":"192.0.2.2","flags":[],"uid":0,"cache":[]}]',
    '8.8.8.8 via 192.0.2.1 dev eth0 src 192.0.2.2 uid 0 \n    cache \n',
  ],
];

for (const [what, json, text] of RECORDED)
  test(`route get, recorded: ${what}`, t => {
    t.is(routeGetText(json), text);
  });

test('a route with what the text cannot be written from gives no text (the command is asked alone)', t => {
  const base = { type: 'unicast', dst: '10.0.0.1', dev: 'eth0', prefsrc: '10.0.0.2', uid: 0 };
  t.truthy(routeGetText(JSON.stringify([{ ...base, flags: [] }])));
  t.is(routeGetText(JSON.stringify([{ ...base, flags: ['linkdown'] }])), undefined, 'route flags');
  t.is(routeGetText(JSON.stringify([{ ...base, cache: [], expires: 300 }])), undefined, 'cache details');
  t.is(routeGetText(JSON.stringify([{ ...base, via: { family: 'inet6', host: 'fe80::1' } }])), undefined, 'via');
  const { uid, ...noUid } = base;
  t.is(routeGetText(JSON.stringify([{ ...noUid, pref: 'medium', uid }])), undefined, 'a field after pref');
  t.is(routeGetText(JSON.stringify([base, base])), undefined, 'two routes');
  t.is(routeGetText('Option "-j" is unknown'), undefined, 'not JSON');
});

test('neighbours, recorded on a guest, and what is not known', t => {
  const json = '[{"dst":"10.99.0.1","dev":"eth0","lladdr":"02:99:00:00:00:01","state":["DELAY"]}]';
  t.is(neighText(json), '10.99.0.1 dev eth0 lladdr 02:99:00:00:00:01 DELAY \n');
  t.is(neighText('[]'), '');
  t.is(
    neighText('[{"dst":"10.0.0.1","dev":"eth0","lladdr":"02:00:00:00:00:01","probes":3,"state":["STALE"]}]'),
    undefined,
  );
});

test("this host's routes and neighbours: the text written from -d -j is what ip prints", async t => {
  const lo = await ip(['-d', '-j', 'route', 'get', '127.0.0.1']);
  if (lo.code !== 0 || !lo.stdout.startsWith('[')) {
    t.pass('no iproute2 ip with -j here');
    return;
  }
  let written = 0;
  for (const dst of ['127.0.0.1', '::1', '8.8.8.8', '2001:db8::1', '192.0.2.77']) {
    const [j, plain] = await Promise.all([ip(['-d', '-j', 'route', 'get', dst]), ip(['route', 'get', dst])]);
    if (j.code !== 0 || plain.code !== 0) continue;
    const text = routeGetText(j.stdout);
    if (text === undefined) continue;
    written++;
    t.is(text, plain.stdout, dst);
    t.deepEqual(parseRouteGet(text), parseRouteGet(plain.stdout));
  }
  t.true(written >= 1, 'at least the loopback route written');
  // A neighbour's state can change between the two reads: a few tries.
  for (let i = 0; ; i++) {
    const [j, plain] = await Promise.all([ip(['-d', '-j', 'neigh', 'show']), ip(['neigh', 'show'])]);
    const text = neighText(j.stdout);
    if (text === plain.stdout || i === 4) {
      if (text !== undefined) {
        t.is(text, plain.stdout);
        t.deepEqual(parseNeigh(text), parseNeigh(plain.stdout));
      }
      break;
    }
  }
});

test('answers: the plain commands added from the JSON ones; a failure kept as it failed; nothing replaced', t => {
  const answers: BatchAnswers = new Map([
    ['C ip -d -j route get 10.99.0.1', { text: RECORDED[0]![1], code: 0 }],
    ['C ip -d -j route get 10.98.0.1', { text: '', code: 2 }],
    ['S ip -d -j route get 10.98.0.1', { text: 'RTNETLINK answers: Network is unreachable\n', code: 0 }],
    ['C ip -d -j neigh show', { text: '[{"dst":"10.99.0.1","dev":"eth0","probes":1,"state":["STALE"]}]', code: 0 }],
    ['C ip -d -j addr show', { text: '[]', code: 0 }],
  ]);
  addIpText(answers);
  t.deepEqual(answers.get('C ip route get 10.99.0.1'), { text: RECORDED[0]![2], code: 0 });
  t.deepEqual(answers.get('C ip route get 10.98.0.1'), { text: '', code: 2 });
  t.deepEqual(answers.get('S ip route get 10.98.0.1'), {
    text: 'RTNETLINK answers: Network is unreachable\n',
    code: 0,
  });
  t.false(answers.has('C ip neigh show'), 'a field not known: asked alone');
  t.false(answers.has('C ip addr show'));
});
