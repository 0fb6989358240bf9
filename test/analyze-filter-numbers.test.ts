/**
 * Packet numbers with a filter, as tcpdump counts them: tcpdump -r FILE -# EXPR numbers the
 * packets that pass the filter (1, 2, 3, ...), not their places in the file. netdiag's packet
 * numbers (`packets` in JSON, `#N` in the text) must name the same packets: each message's
 * packet number is the one tcpdump prints for a packet with the same timestamp. Real captures,
 * real tcpdump.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { projectRoot, runMain } from './helpers/cli.js';
import { haveCommand, requiring } from './helpers/prereq.js';

const withTcpdump = requiring([[haveCommand('tcpdump'), 'tcpdump (the filter compiler and the reference)']]);
const real = (f: string) => path.join(projectRoot, 'fixtures/real', f);

/** tcpdump's numbering: packet number -> epoch time in microseconds, for the packets the filter passes. */
function tcpdumpNumbers(file: string, filter: string): Map<number, string> {
  const r = spawnSync('tcpdump', ['-r', file, '-n', '-#', '-tt', filter], {
    encoding: 'utf8',
    env: { ...process.env, TZ: 'UTC' },
  });
  if (r.status !== 0) throw new Error(`tcpdump: ${r.stderr}`);
  const out = new Map<number, string>();
  for (const l of r.stdout.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+\.\d{6})\s/.exec(l);
    if (m) out.set(Number(m[1]), m[2]!);
  }
  return out;
}

/** An ISO time (`...T14:48:21.572051Z`) as tcpdump -tt prints it. */
function epoch(iso: string): string {
  const [whole, frac = ''] = iso.replace(/Z$/, '').split('.');
  return `${Date.parse(`${whole}Z`) / 1000}.${frac.padEnd(6, '0').slice(0, 6)}`;
}

const cases: Array<[string, string, number]> = [
  // Every other packet: the port 5514 copies are the file's packets 1 and 3.
  ['linux-6.17.13+deb13-amd64-two-targets.pcap', 'udp dst port 5514', 2],
  // Long lines of a boot log: a few of several hundred, spread through the file.
  ['linux-6.17.13+deb13-amd64-plain-boot.pcap', 'udp and greater 150', 13],
  ['linux-6.1.0-56-amd64-extended-boot.pcap', 'udp and greater 200', 0],
];

for (const [file, filter, expected] of cases) {
  withTcpdump(`${file} with '${filter}': packet numbers as tcpdump -# gives them`, async t => {
    const ref = tcpdumpNumbers(real(file), filter);
    const r = await runMain(['analyze', '--json', real(file), ...filter.split(' ')]);
    t.true(r.code === 0 || r.code === 1, r.stderr);
    const doc = JSON.parse(r.stdout) as { messages: Array<{ time: string; packets: number[] }> };
    if (expected) t.is(doc.messages.length, expected);
    t.true(doc.messages.length > 0, 'the filter passes some messages');
    for (const m of doc.messages) {
      t.is(m.packets.length, 1);
      t.is(ref.get(m.packets[0]!), epoch(m.time), `message at ${m.time} is packet #${m.packets[0]}`);
    }
    // The text output names the same numbers with -v.
    const v = await runMain(['analyze', '-v', '-u', real(file), ...filter.split(' ')]);
    const shown = [...v.stdout.matchAll(/^ {4}packets #(\d+);/gm)].map(m => Number(m[1]));
    t.deepEqual(
      shown,
      doc.messages.map(m => m.packets[0]),
    );
  });
}
