/**
 * syslog-ng's log paths judged for netconsole's messages, held to what a real syslog-ng 3.38.1 wrote
 * of them (fixtures/checks/syslog-ng/walked-*.conf, hand-written; the walk is in
 * fixtures/checks/README.md). Failures first.
 */
import test from 'ava';
import { runReceiverChecks, type ReceiverContext } from '../src/checks/receiver/run.js';
import type { ReceiverFacts } from '../src/checks/host/facts.js';
import { ngFilterExpr, ngMessage } from '../src/checks/syslog/syslog-ng-filter.js';
import { fx, f, problemCodes } from './helpers/host-facts.js';
import { parseNetconsoleSpec } from '../src/config/netconsole-spec.js';

const ctx: ReceiverContext = { senderIp: '10.99.0.2', receiverIp: '10.99.0.1', port: 514 };

/** A receiver whose syslog-ng listens on 0.0.0.0:514 with the walked configuration `names` (main file first). */
function receiver(names: string[]): ReceiverFacts {
  return {
    ss: f(fx('generated/ss-ulnp-any.txt').replace(/socat/g, 'syslog-ng'), 'ss -ulnp'),
    syslog: { 'syslog-ng': names.map(n => f(fx(`syslog-ng/${n}`), `/etc/syslog-ng/${n}`)) },
    notes: [],
  };
}

const syslogFindings = (r: ReturnType<typeof runReceiverChecks>) =>
  r.checks.find(c => c.id === 'receiver.syslog')!.findings;

interface Walked {
  files: string[];
  /** What syslog-ng 3.38.1 did with the plain and extended `sysrq:` lines from 10.99.0.2. */
  wrote: string;
  /** What netdiag says: the files they (may) land in, the findings, and words they must hold. */
  logFiles: string[];
  codes: string[];
  words?: RegExp;
}

const walked: Walked[] = [
  {
    files: ['walked-junction-none.conf'],
    wrote: 'nothing: no channel of the junction takes user.notice, so nothing goes on to after.log',
    logFiles: [],
    codes: ['syslog-filtered'],
    words:
      /junction-none\.conf:7: log \{ source\(s_net\) \.\.\. destination \{ file\("\/var\/log\/j-kern\.log"\); \} \} -> \/var\/log\/j-kern\.log\n.*\n.*junction-none\.conf:10: .* -> \/var\/log\/after\.log/,
  },
  {
    files: ['walked-undefined-filter.conf'],
    wrote: "nothing: it did not start (Error resolving reference; content='filter', name='f_kern')",
    logFiles: ['/var/log/kern.log'],
    codes: ['syslog-config-warning'],
    words:
      /syslog-ng will not start: \/etc\/syslog-ng\/walked-undefined-filter\.conf:6: filter\(f_kern\) names no filter in the files read \(syslog-ng: Error resolving reference; content='filter', name='f_kern'\)\nDefine filter f_kern \{ \.\.\. \}; or take filter\(f_kern\) out of the log path at \/etc\/syslog-ng\/walked-undefined-filter\.conf:6, check with syslog-ng --syntax-only, then systemctl restart syslog-ng/,
  },
  {
    files: ['walked-program-kernel.conf'],
    wrote: 'nothing for sysrq lines ($PROGRAM "" and "6,123,456789,-;sysrq"); a "kernel BUG at" line would be',
    logFiles: ['/var/log/kernel.log'],
    codes: ['syslog-config-warning'],
    words:
      /walked-program-kernel\.conf:7: only the lines program\("kernel"\) selects reach \/var\/log\/kernel\.log, whatever else the kernel sends: .*without a program \(plain, with printk timestamps\)[^]*Select them by their sender, not their text: put log \{ source\(s_net\); filter \{ netmask\(10\.99\.0\.2\/32\); \}; destination \{ file\("\/var\/log\/netconsole\.log"\); \}; flags\(final\); \}; before the other log paths/,
  },
  {
    files: ['walked-embedded-outer-final.conf'],
    wrote: 'e-net.log only: the second path (final) took them through its embedded path, next.log got nothing',
    logFiles: ['/var/log/e-net.log'],
    codes: [],
  },
  {
    files: ['walked-include-middle.conf', 'walked-include-first.inc'],
    wrote: "included-first.log only: the @include'd final path comes before main-after.log's",
    logFiles: ['/var/log/included-first.log'],
    codes: [],
  },
  {
    files: ['walked-junction.conf'],
    wrote: 'j-user.log and after.log: the user channel takes them, and what a channel takes goes on',
    logFiles: ['/var/log/j-user.log', '/var/log/after.log'],
    codes: [],
  },
  {
    files: ['walked-embedded.conf'],
    wrote: 'e-net.log and next.log: not e-kern.log, not e-after-final.log (after an embedded final path)',
    logFiles: ['/var/log/e-net.log', '/var/log/next.log'],
    codes: [],
  },
  {
    files: ['walked-match-value.conf'],
    wrote: 'by-host.log and user.log ($HOST and $FACILITY are known), not other.log',
    logFiles: ['/var/log/by-host.log', '/var/log/user.log'],
    codes: [],
  },
  {
    files: ['walked-no-parse.conf'],
    wrote: 'all.log (match() tests ": " and the line), not kernel.log ($PROGRAM is empty with no-parse)',
    logFiles: ['/var/log/all.log'],
    codes: [],
  },
  {
    files: ['walked-if-else.conf'],
    wrote: 'b.log only (the else branch; the conditional set-facility() did not run, so not c.log)',
    // Not judged: the branch of an if, and a rewrite with condition().
    logFiles: ['/var/log/a.log', '/var/log/b.log', '/var/log/c.log'],
    codes: [],
  },
  {
    files: ['walked-rewrite-parser.conf'],
    wrote: 'kern.log, kernel.log and kv.log (rewrites set what the filters test), not json.log',
    // json-parser() drops what is not JSON: a kernel line practically never is, but may be.
    logFiles: ['/var/log/kern.log', '/var/log/kernel.log', '/var/log/kv.log', '/var/log/json.log'],
    codes: [],
  },
];

for (const c of walked)
  test(`syslog-ng ${c.files[0]}: syslog-ng wrote ${c.wrote}`, t => {
    const r = runReceiverChecks(receiver(c.files), ctx);
    const found = syslogFindings(r);
    t.deepEqual(
      found.map(x => x.code),
      c.codes,
    );
    t.deepEqual(r.logFiles, c.logFiles);
    if (c.words) t.regex(found.flatMap(x => [x.summary, x.hint ?? '', ...x.evidence]).join('\n'), c.words);
  });

test("syslog-ng junction-none: the fix is syslog-ng's own (a first netmask path with flags(final))", t => {
  const r = runReceiverChecks(receiver(['walked-junction-none.conf']), ctx);
  t.is(
    syslogFindings(r)[0]!.hint,
    'Select them by their source, not by kernel facility or level (syslog-ng files them as user.notice): put log { source(s_net); filter { netmask(10.99.0.2/32); }; destination { file("/var/log/netconsole.log"); }; flags(final); }; before the other log paths, then restart syslog-ng',
  );
});

// Filters on the text: what syslog-ng 3.38.1 did with `[   12.345678] sysrq: MARK plain` and
// `6,123,456789,-;sysrq: MARK extended` (and, for the 'maybe' ones, why another line differs).
const exprs: Array<{ expr: string; take: boolean | 'maybe'; noParse?: boolean; why: string }> = [
  { expr: 'program("^kernel$")', take: 'maybe', why: 'plain without timestamps: "kernel BUG at" has $PROGRAM kernel' },
  { expr: 'program("kernel")', take: 'maybe', why: 'extended "kernel BUG at": $PROGRAM 6,200,1,-;kernel' },
  { expr: 'program("kernel")', take: false, noParse: true, why: 'no-parse: $PROGRAM is empty' },
  {
    expr: 'message("sysrq")',
    take: 'maybe',
    why: 'plain took it ($MESSAGE "  12.345678] sysrq: ..."), extended did not',
  },
  { expr: 'match("^\\\\[")', take: false, noParse: true, why: 'match() tests ": $MESSAGE" when $PROGRAM is empty' },
  { expr: 'match("10.1.1.1" value("SOURCEIP") type("string"))', take: false, why: '$SOURCEIP is the sender' },
  { expr: 'match("user" value("FACILITY") type("string"))', take: true, why: 'walked: both' },
  { expr: 'match("us" value("FACILITY") type("string") flags("prefix"))', take: true, why: 'walked: both' },
  { expr: 'match("USER" value("FACILITY") flags("ignore-case"))', take: true, why: 'walked: both' },
  { expr: 'match("^10\\\\.99\\\\.0\\\\.2$" value("HOST"))', take: true, why: 'use_dns(no): $HOST is the address' },
  { expr: 'program(".*")', take: true, why: 'any value' },
  { expr: 'facility(0)', take: false, why: 'kern is 0, netconsole is user (1)' },
  { expr: 'facility(1)', take: true, why: 'user is 1' },
  { expr: 'program("kern*" type("glob"))', take: 'maybe', why: 'walked: neither sysrq line; "kernel BUG" would be' },
  { expr: 'not program("^[a-z]")', take: 'maybe', why: 'plain-ts: empty, no letter; plain: a word' },
];

test('syslog-ng: program("kernel") never takes plain lines with printk timestamps ($PROGRAM empty): filtered once the sender says it sends those', t => {
  const facts = receiver(['walked-program-kernel.conf']);
  const target = (spec: string) => parseNetconsoleSpec(spec).targets[0]!;
  const extended = target('+6665@10.99.0.2/eth0,514@10.99.0.1/52:54:00:99:00:01');
  const plain = target('6665@10.99.0.2/eth0,514@10.99.0.1/52:54:00:99:00:01');
  const filtered = runReceiverChecks(facts, { ...ctx, target: plain, printkTime: true });
  t.deepEqual(problemCodes(filtered), ['syslog-filtered']);
  t.deepEqual(filtered.logFiles, []);
  // Extended: $PROGRAM is "6,SEQ,USEC,-;" and the first word, and program() searches: "kernel BUG at"
  // is taken. Without timestamps $PROGRAM is the first word: the same.
  t.deepEqual(problemCodes(runReceiverChecks(facts, { ...ctx, target: extended })), ['syslog-config-warning']);
  t.deepEqual(problemCodes(runReceiverChecks(facts, { ...ctx, target: plain, printkTime: false })), [
    'syslog-config-warning',
  ]);
});

for (const c of exprs)
  test(`syslog-ng filter ${c.expr}${c.noParse ? ' (no-parse)' : ''}: ${c.take} (${c.why})`, t => {
    const msg = ngMessage('10.99.0.2', true, new Map());
    msg.noParse = c.noParse ?? false;
    t.is(ngFilterExpr(c.expr, msg), c.take);
  });
