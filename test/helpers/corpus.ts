/**
 * The tcpdump test corpus (../shared/corpus/tcpdump beside the project: real captures, many
 * built to crash decoders, and two files that are not captures), as the corpus tests read it.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import zlib, { gunzipSync } from 'node:zlib';
import { projectRoot } from './cli.js';

export const corpus = path.resolve(projectRoot, '../shared/corpus/tcpdump');
export const haveCorpus = existsSync(corpus) && statSync(corpus).isDirectory();

/** A capture by its name: .pcap, .pcapng or .cap. */
export const isCaptureName = (name: string): boolean => /\.(pcap|pcapng|cap)$/.test(name);

/** The corpus's files whose names pass `keep`, as full paths in name order (none without the corpus). */
export function corpusFiles(keep: (name: string) => boolean = () => true): string[] {
  if (!haveCorpus) return [];
  return readdirSync(corpus)
    .sort()
    .filter(keep)
    .map(f => path.join(corpus, f))
    .filter(f => statSync(f).isFile());
}

/**
 * The UDP ports to watch so that every datagram in `file` is decoded as netconsole, as if all
 * 65,535 were given: each 16-bit value (but 0, as 1..65,535) that stands at any offset of the
 * file's bytes (decompressed when gzip; a gzip damaged inside gets all 65,535). A datagram's
 * destination port, in its UDP header, in an ICMP error's quote of it, or in the first fragment
 * an IP datagram is reassembled from, is two bytes of the file. Why not all 65,535: making,
 * checking and listing them costs a pipeline about 10 ms, for each of the corpus's 830 files in
 * each pass over it, most of these tests' time. What differs is the ports a finding lists as
 * watched; and at least one port is given, so the pipeline stays restricted to the list, as with
 * --port.
 */
export function portsIn(file: string): number[] {
  let bytes: Uint8Array = readFileSync(file);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      // A cut gzip gives what it holds, as the reader reads it.
      bytes = gunzipSync(bytes, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    } catch {
      return Array.from({ length: 65535 }, (_, i) => i + 1); // damaged inside: every port
    }
  }
  const seen = new Uint8Array(65536);
  for (let i = 0; i + 1 < bytes.length; i++) seen[(bytes[i]! << 8) | bytes[i + 1]!] = 1;
  const ports: number[] = [];
  for (let p = 1; p < 65536; p++) if (seen[p]) ports.push(p);
  return ports.length ? ports : [1];
}

/** The CPU time (user and system) this process has used, in ms: a bound on work that load does not stretch. */
export function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}
