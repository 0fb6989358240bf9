/**
 * The whole analysis (reader, every decoder, reassembly, checks, report) over every capture of
 * the tcpdump corpus (../shared/corpus/tcpdump, many made to crash decoders), with every UDP
 * port in the file treated as a netconsole port (portsIn) so each datagram reaches the netconsole
 * decoders; and the
 * corpus's real syslog capture decoded as tcpdump itself decodes it (syslog-v.out, the oracle).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readCaptureFile } from '../src/capture/file-source.js';
import { CLIError } from '../src/errors.js';
import {
  decodeIpv4,
  decodeIpv6,
  decodeLink,
  decodeUdp,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  IPPROTO_UDP,
  newIpView,
  newLinkView,
  newUdpView,
} from '../src/decode/packet.js';
import { createPipeline } from '../src/pipeline/pipeline.js';
import type { Message } from '../src/pipeline/types.js';
import { formatMessageLine, formatSummary } from '../src/report/text.js';
import { PLAIN } from '../src/report/style.js';
import { corpus, corpusFiles, cpuMs, haveCorpus, isCaptureName, portsIn } from './helpers/corpus.js';
import { requiring } from './helpers/prereq.js';

const withCorpus = requiring([[haveCorpus, `capture corpus at ${corpus}`]]);
/** The captures, and the files without a suffix (a capture by its bytes, or refused by them). */
const files = corpusFiles(f => isCaptureName(f) || !f.includes('.'));

withCorpus('every corpus file is analyzed, every UDP port decoded, without an exception or a hang', async t => {
  let analyzed = 0,
    refused = 0,
    messages = 0,
    slowest = 0;
  for (const file of files) {
    const f = path.basename(file);
    const t0 = cpuMs();
    const p = createPipeline({
      ports: portsIn(file),
      onMessage: (m: Message) => {
        messages++;
        // Formatting is part of the path hostile bytes take to the terminal.
        const line = formatMessageLine(m, PLAIN);
        if (/[\x00-\x08\x0b-\x1f\x7f]/.test(line.slice(0, -1)))
          t.fail(`${f}: unescaped control character in ${JSON.stringify(line)}`);
      },
    });
    try {
      const summary = await readCaptureFile(file, p);
      formatSummary(p.finish(summary), PLAIN);
      analyzed++;
    } catch (e) {
      if (!(e instanceof CLIError)) throw new Error(`${f}: ${(e as Error).stack}`, { cause: e });
      refused++;
    }
    slowest = Math.max(slowest, cpuMs() - t0);
  }
  t.log(
    `${analyzed} analyzed, ${refused} refused as not captures, ${messages} messages, slowest ${slowest.toFixed(0)} ms of CPU`,
  );
  t.true(analyzed > 800);
  // A hang would be ava's timeout; a file that makes the pipeline loop for seconds is found here.
  t.true(slowest < 5000, `${slowest.toFixed(0)} ms of CPU for one file`);
});

withCorpus('syslog_udp.pcap decodes as tcpdump decodes it (syslog-v.out)', async t => {
  const oracle = readFileSync(path.join(corpus, 'syslog-v.out'), 'latin1');
  // Each packet: "Facility NAME (F), Severity NAME (S)" then "Msg: TEXT".
  const want = [...oracle.matchAll(/Facility \S+ \((\d+)\), Severity \S+ \((\d+)\)\n\s*Msg: (.*)/g)].map(m => ({
    facility: Number(m[1]),
    severity: Number(m[2]),
    msg: m[3]!.replace(/\^@$/, ''),
  }));
  const got: Message[] = [];
  const p = createPipeline({ onMessage: m => got.push(m) });
  await readCaptureFile(path.join(corpus, 'syslog_udp.pcap'), p);
  const result = p.finish();
  t.true(want.length >= 4);
  t.is(got.length, want.length);
  got.forEach((m, i) => {
    t.is(m.mode, 'syslog');
    t.is(m.facility, want[i]!.facility, `packet ${i + 1} facility`);
    t.is(m.level, want[i]!.severity, `packet ${i + 1} severity`);
    t.true(
      want[i]!.msg.endsWith(m.text),
      `packet ${i + 1}: ${JSON.stringify(m.text)} is the end of ${JSON.stringify(want[i]!.msg)}`,
    );
    t.true(m.text.startsWith('test message') || m.text.includes('test message'));
  });
  t.deepEqual([...new Set(result.findings.map(f => f.code))], ['syslog-traffic']);
});

withCorpus(
  'netconsole recognised by content finds none in the corpus (DNS, NTP, syslog, and every other UDP port)',
  async t => {
    let elsewhere = 0;
    const found: string[] = [];
    // Counts the UDP datagrams to other ports as the file is read once, beside the pipeline.
    const link = newLinkView(),
      ip = newIpView(),
      udp = newUdpView();
    const count = (buf: Uint8Array, off: number, caplen: number, linkType: number) => {
      if (decodeLink(buf, off, caplen, linkType, link) !== undefined) return;
      const bad =
        link.ethertype === ETHERTYPE_IPV4
          ? decodeIpv4(buf, link.netOff, link.netEnd, ip)
          : link.ethertype === ETHERTYPE_IPV6
            ? decodeIpv6(buf, link.netOff, link.netEnd, ip)
            : 'not IP';
      if (bad !== undefined || ip.protocol !== IPPROTO_UDP || ip.fragmented) return;
      if (decodeUdp(buf, ip.l4Off, ip.l4End, udp) === undefined && udp.dstPort !== 514 && udp.dstPort !== 6666)
        elsewhere++;
    };
    for (const file of files) {
      const f = path.basename(file);
      // As analyze runs without --port: 514 and 6666 watched, every other UDP port looked at by content.
      const p = createPipeline({});
      const tee = {
        packet(buf: Uint8Array, off: number, caplen: number, origlen: number, sec: number, nsec: number, lt: number) {
          count(buf, off, caplen, lt);
          p.packet(buf, off, caplen, origlen, sec, nsec, lt);
        },
      };
      try {
        const r = p.finish(await readCaptureFile(file, tee));
        for (const s of r.senders)
          if (s.dstPort !== 514 && s.dstPort !== 6666)
            found.push(`${f}: ${s.ip}:${s.port} → ${s.dstIp}:${s.dstPort} (${s.mode})`);
        for (const x of r.findings) if (x.code === 'unexpected-port') found.push(`${f}: ${x.summary}`);
      } catch (e) {
        if (!(e instanceof CLIError)) throw e;
      }
    }
    t.log(`${elsewhere} UDP datagrams to other ports looked at`);
    // The corpus has thousands of them (DNS, NTP, SNMP, RADIUS, ...): the result means something.
    t.true(elsewhere > 1000, `only ${elsewhere}`);
    t.deepEqual(found, []);
  },
);
