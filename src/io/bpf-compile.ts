/**
 * A tcpdump filter expression compiled by libpcap, the compiler tcpdump itself uses: `tcpdump
 * -ddd -y DLT EXPR` prints the program for one link type, parsed here into instructions for
 * src/capture/bpf.ts. Compiled once per link type a capture holds (pcapng files can mix them).
 */
import { execFileSync } from 'node:child_process';
import { parseBpfProgram, runBpf, type BpfInsn } from '../capture/bpf.js';
import type { PacketSink } from '../capture/sink.js';
import { CLIError } from '../errors.js';
import { escapeText } from '../report/escape.js';

/** pcap LINKTYPE_ values and the DLT names tcpdump's -y takes for them. */
const DLT_NAMES = new Map<number, string>([
  [0, 'NULL'],
  [1, 'EN10MB'],
  [101, 'RAW'],
  [108, 'LOOP'],
  [113, 'LINUX_SLL'],
  [228, 'IPV4'],
  [229, 'IPV6'],
  [276, 'LINUX_SLL2'],
]);

/** Compiles `expression` for the capture's link type with tcpdump, or says why it cannot (CLIError). */
export function compileFilter(expression: string, linkType: number): BpfInsn[] {
  const dlt = DLT_NAMES.get(linkType);
  const shown = escapeText(expression);
  if (!dlt) throw new CLIError(`filter '${shown}': link type ${linkType} has no filter compiler here`);
  let text: string;
  try {
    text = execFileSync('tcpdump', ['-ddd', '-y', dlt, expression], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 30_000,
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') {
      throw new CLIError(
        `filter '${shown}': tcpdump compiles filter expressions (with libpcap) and is not installed (apt-get install tcpdump)`,
      );
    }
    const why =
      (err.stderr ?? '')
        .trim()
        .split('\n')
        .pop()
        ?.replace(/^tcpdump: /, '') ?? '';
    throw new CLIError(`filter '${shown}': ${why || 'does not compile'}`);
  }
  const prog = parseBpfProgram(text);
  if (typeof prog === 'string') throw new CLIError(`filter '${shown}': tcpdump -ddd printed ${prog}`);
  return prog;
}

/** A sink that passes on only the packets the filter accepts. */
export function filteredSink(next: PacketSink, expression: string): PacketSink {
  const programs = new Map<number, BpfInsn[]>();
  return {
    packet(buf, offset, caplen, origlen, tsSec, tsNsec, linkType) {
      let prog = programs.get(linkType);
      if (!prog) programs.set(linkType, (prog = compileFilter(expression, linkType)));
      if (runBpf(prog, buf, offset, caplen, origlen) !== 0) {
        next.packet(buf, offset, caplen, origlen, tsSec, tsNsec, linkType);
      }
    },
  };
}
