/**
 * The command line's manners: one-line errors without doubled prefixes or escaped newlines,
 * "did you mean" for a mistyped command, option or finding code, explain by any case and by a
 * unique beginning, -q with --json refused, --color and its environment, -v, --identity checked
 * before ssh runs, --version from package.json.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot, runCli, runMain } from './helpers/cli.js';

const capture = path.join(projectRoot, 'fixtures/real/linux-6.1.0-56-amd64-extended-sysrq-p.pcap');
const ESC = '\x1b[';

// Failures first: each is one line on stderr, exit 2, nothing on stdout.
const failures: Array<[string, string[], RegExp]> = [
  [
    'mistyped command',
    ['anaylze', capture],
    /^netdiag: unknown command 'anaylze' \(did you mean analyze\? try: netdiag --help\)$/,
  ],
  [
    'mistyped option',
    ['analyze', '--jsn', capture],
    /^netdiag: analyze: Unknown option '--jsn' \(did you mean --json\?\)$/,
  ],
  [
    'a value that looks like an option',
    ['analyze', '--config', '-q', capture],
    /^netdiag: analyze: Option '--config' argument is ambiguous$/,
  ],
  [
    'a bad --netconsole, its name once',
    ['analyze', '--netconsole', 'garbage', capture],
    /^netdiag: --netconsole: missing '@'/,
  ],
  [
    '-q with --json',
    ['analyze', '-q', '--json', capture],
    /^netdiag: -q \(--summary\) shortens the text report; --json always holds every message$/,
  ],
  ['-q with --jsonl', ['analyze', '-q', '--jsonl', capture], /--jsonl always holds every message$/],
  [
    '--color with another word',
    ['analyze', '--color=sometimes', capture],
    /^netdiag: --color: 'sometimes' is not auto, always or never$/,
  ],
  [
    'explain: a code nobody has',
    ['explain', 'dst-mac-mismach'],
    /^netdiag: explain: no finding code 'dst-mac-mismach' \(did you mean dst-mac-mismatch\?/,
  ],
  [
    'explain: a beginning of several',
    ['explain', 'dst-'],
    /^netdiag: explain: 'dst-' begins several codes: dst-mac-mismatch, /,
  ],
  [
    'verify: --identity that is not there, before any ssh',
    ['verify', '--sender', 'h', '--identity', '/nonexistent/key'],
    /^netdiag: --identity \/nonexistent\/key: no such file$/,
  ],
];
for (const [name, args, error] of failures) {
  test(`refused: ${name}`, async t => {
    const r = await runMain(args);
    t.is(r.code, 2, r.stderr);
    t.regex(r.stderr, /\n$/);
    t.is(r.stderr.trim().split('\n').length, 1, 'one line');
    t.regex(r.stderr.trim(), error);
    t.notRegex(r.stderr, /\\n|(--\w+: ){2}/, 'no escaped newline, no doubled prefix');
    t.is(r.stdout, '');
  });
}

test('explain: any case, and a unique beginning', async t => {
  const full = await runMain(['explain', 'dst-mac-mismatch']);
  t.is(full.code, 0);
  t.is((await runMain(['explain', 'DST-MAC-Mismatch'])).stdout, full.stdout);
  t.is((await runMain(['explain', 'dst-mac'])).stdout, full.stdout);
});

test('--color: always colours a pipe, never and auto do not; NO_COLOR, TERM=dumb, FORCE_COLOR', async t => {
  const run = async (args: string[], env: NodeJS.ProcessEnv) =>
    (await runMain(['analyze', ...args, capture], { env: { NO_COLOR: '', TERM: 'xterm', FORCE_COLOR: '', ...env } }))
      .stdout;
  t.true((await run(['--color=always'], {})).includes(ESC));
  t.true((await run(['--color=always'], { NO_COLOR: '1' })).includes(ESC), 'the option wins over the environment');
  t.false((await run(['--color=never'], { FORCE_COLOR: '1' })).includes(ESC));
  t.false((await run([], {})).includes(ESC), 'auto: a pipe is not a terminal');
  t.true((await run([], { FORCE_COLOR: '1' })).includes(ESC));
  t.false((await run([], { FORCE_COLOR: '1', NO_COLOR: '1' })).includes(ESC), 'NO_COLOR wins over FORCE_COLOR');
  t.false((await run([], { FORCE_COLOR: '1', TERM: 'dumb' })).includes(ESC), 'TERM=dumb');
});

test('-v: a line under each message with its packets, sequence number and facility', async t => {
  const r = await runMain(['analyze', '-v', capture]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /sysrq: Show Regs\n {4}packets #1; mode extended; seq \d+; facility 0; level 6; flags -\n/);
  t.notRegex((await runMain(['analyze', capture])).stdout, /packets #1;/);
});

test("--version is package.json's; help lists every command with the summary its file defines", t => {
  const pkg = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string };
  t.is(runCli(['--version']).stdout, `netdiag ${pkg.version}\n`);
  const help = runCli(['--help']);
  t.is(help.code, 0);
  for (const c of ['analyze', 'sniff', 'verify', 'check', 'explain'])
    t.regex(help.stdout, new RegExp(`^  ${c} +\\S`, 'm'));
  const sniff = runCli(['sniff', '--help']).stdout;
  t.regex(sniff, /^usage: netdiag sniff \[options\] \[IFACE\] \[EXPRESSION\]$/m);
  t.regex(sniff, /^ {2}-B, --buffer MiB +kernel capture buffer.*\(default 128\)$/m);
});
