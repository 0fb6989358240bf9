/**
 * Writes a synthesised netconsole capture for the benchmark (classic pcap, Ethernet): an
 * extended-mode sender with increasing sequence numbers, every 50th message fragmented with
 * ncfrag into pieces, and a plain-mode sender, built with the project's own encoders.
 * Synthesised: say so wherever its figures are shown.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { formatExtended, formatPlain } from '../src/decode/netconsole.js';
import { PCAP_RECORD_HEADER_LEN, pcapFileHeader, writePcapRecordHeader } from '../src/capture/format.js';
import { udpFrame } from '../test/helpers/frames.js';

const TEXTS = [
  'sysrq: Show Regs',
  'CPU: 0 PID: 1 Comm: swapper/0 Not tainted 6.1.0-27-amd64 #1  Debian 6.1.115-1',
  'e1000e 0000:00:19.0 eth0: NIC Link is Up 1000 Mbps Full Duplex, Flow Control: Rx/Tx',
  'EXT4-fs (sda1): mounted filesystem with ordered data mode. Quota mode: none.',
  'RIP: 0010:default_idle+0xe/0x20',
  'audit: type=1400 audit(1700000000.123:42): apparmor="STATUS" operation="profile_load"',
];

function frame(payload: Buffer, src: number, sport: number, dport: number): Buffer {
  return udpFrame({
    srcMac: `52:54:00:00:00:0${src}`,
    dstMac: '52:54:00:00:00:01',
    srcIp: `10.99.0.${src}`,
    dstIp: '10.99.0.1',
    srcPort: sport,
    dstPort: dport,
    payload,
  });
}

export function generateCapture(
  path: string,
  datagrams: number,
): { datagrams: number; messages: number; bytes: number } {
  const fd = openSync(path, 'w');
  writeSync(fd, pcapFileHeader(1, 262144));
  let out: Buffer[] = [];
  let outLen = 0;
  let sent = 0,
    messages = 0,
    seq = 0,
    bytes = 24;
  let sec = 1_764_000_000,
    usec = 0;
  const emit = (f: Buffer) => {
    const rec = Buffer.alloc(PCAP_RECORD_HEADER_LEN);
    usec += 7;
    if (usec >= 1e6) {
      sec++;
      usec -= 1e6;
    }
    writePcapRecordHeader(rec, 0, sec, usec, f.length, f.length);
    out.push(rec, f);
    outLen += 16 + f.length;
    sent++;
    if (outLen > 4 << 20) {
      bytes += outLen;
      writeSync(fd, Buffer.concat(out, outLen));
      out = [];
      outLen = 0;
    }
  };
  while (sent < datagrams) {
    const i = messages++;
    const text = TEXTS[i % TEXTS.length]!;
    if (i % 3 === 2) {
      emit(frame(Buffer.from(formatPlain(text, 45_000_000 + i * 13)), 3, 6665, 514));
    } else if (i % 50 === 0 && datagrams - sent >= 3) {
      const body = `${text} ${'x'.repeat(2300)}\n SUBSYSTEM=bench\n`;
      const total = body.length;
      for (let off = 0; off < total; off += 1000) {
        const piece = body.slice(off, off + 1000);
        emit(
          frame(
            Buffer.from(
              formatExtended(
                { facility: 0, level: 6, seq, usec: 45_000_000 + i * 13, flags: '-', frag: { offset: off, total } },
                piece,
              ),
            ),
            2,
            6665,
            6666,
          ),
        );
      }
      seq++;
    } else {
      emit(
        frame(
          Buffer.from(
            formatExtended(
              { facility: 0, level: i % 8, seq: seq++, usec: 45_000_000 + i * 13, flags: '-' },
              `${text}\n`,
            ),
          ),
          2,
          6665,
          6666,
        ),
      );
    }
  }
  if (outLen) {
    bytes += outLen;
    writeSync(fd, Buffer.concat(out, outLen));
  }
  closeSync(fd);
  return { datagrams: sent, messages, bytes };
}

if (process.argv[1]?.endsWith('gen-capture.js')) {
  const [path, n] = process.argv.slice(2);
  if (!path) {
    process.stderr.write('usage: gen-capture.js FILE [DATAGRAMS]\n');
    process.exit(2);
  }
  const r = generateCapture(path, Number(n ?? 1_000_000));
  process.stdout.write(`${JSON.stringify(r)}\n`);
}
