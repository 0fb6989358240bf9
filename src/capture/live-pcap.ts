/**
 * libpcap opened directly through koffi (an FFI, an optional dependency), for the capture process
 * (capture-child.ts); cap (live.ts) stays the fallback when koffi or libpcap cannot be loaded so.
 *
 * Why not cap: cap always opens in immediate mode with a 65535-byte snapshot, so libpcap uses a
 * TPACKET_V2 ring of fixed 64 KiB slots: the default 128 MiB held 2,046 packets, 10 ms at
 * 200,000 datagrams/s, and any longer stall of the capture process lost packets. Here immediate
 * mode is off, so libpcap uses TPACKET_V3: blocks of 256 KiB filled densely (a 500-byte datagram
 * takes about 600 bytes), handed over when full or after BLOCK_TIMEOUT_MS. The same 128 MiB holds
 * about 200,000 such datagrams (1 s at 200,000/s), and on a quiet link a packet still comes at
 * most BLOCK_TIMEOUT_MS late. The snapshot length, promiscuous mode, filter and stream stay as
 * with cap.
 *
 * No JavaScript runs per packet: pcap_dispatch calls libpcap's own pcap_dump (found with dlsym),
 * which writes each packet as a pcap record (nanosecond kernel timestamps) into a FILE made with
 * fmemopen over a buffer of ours; after each call the records are handed on in one piece.
 */
import { existsSync } from 'node:fs';
import { CLIError } from '../errors.js';
import { nativeLibrary } from '../io/libc.js';
import { PCAP_FILE_HEADER_LEN, PCAP_MAGIC_NANO, PCAP_RECORD_HEADER_LEN } from './format.js';
import { CAP_SNAPLEN, checkLiveOptions, linkTypeNumber, openError, type LiveCaptureOptions } from './live.js';

/**
 * How long the kernel keeps a block that is not full before handing it over: the most a packet
 * waits on a quiet link (plus the capture process's poll, POLL_MS in capture-child.ts). Short, as
 * sniff is interactive and verify waits for its marker; at any rate below the one that fills a block
 * in that time, the ring still holds (blocks x 10 ms): 5 s at the default 128 MiB.
 */
export const BLOCK_TIMEOUT_MS = 10;
/** Records staged per pcap_dispatch call (the FILE over it must never fill: see read()). */
const STAGING = 8 * 1024 * 1024;
/** Most packets one pcap_dispatch call may hand over so that their records fit STAGING. */
const PER_CALL = Math.floor((STAGING - 1) / (PCAP_RECORD_HEADER_LEN + CAP_SNAPLEN));
const PCAP_TSTAMP_PRECISION_NANO = 1;
const PCAP_NETMASK_UNKNOWN = 0xffffffff;
const RTLD_NOW = 2;
const SONAMES = ['libpcap.so.0.8', 'libpcap.so.1', 'libpcap.so'];

type Ptr = bigint | null;
type Fn<A extends unknown[], R> = (...args: A) => R;

/** The libpcap and libc calls used, or why they cannot be had. */
interface Native {
  create: Fn<[string, Buffer], Ptr>;
  setInt: Record<
    'snaplen' | 'promisc' | 'buffer_size' | 'timeout' | 'immediate_mode' | 'tstamp_precision',
    Fn<[Ptr, number], number>
  >;
  activate: Fn<[Ptr], number>;
  geterr: Fn<[Ptr], string>;
  statustostr: Fn<[number], string>;
  setnonblock: Fn<[Ptr, number, Buffer], number>;
  lookupnet: Fn<[string, Buffer, Buffer, Buffer], number>;
  compile: Fn<[Ptr, Buffer, string, number, number], number>;
  setfilter: Fn<[Ptr, Buffer], number>;
  freecode: Fn<[Buffer], void>;
  datalink: Fn<[Ptr], number>;
  dumpFopen: Fn<[Ptr, Ptr], Ptr>;
  dumpClose: Fn<[Ptr], void>;
  dispatch: Fn<[Ptr, number, Ptr, Ptr], number>;
  close: Fn<[Ptr], void>;
  pcapDump: Ptr;
  fmemopen: Fn<[Buffer, number, string], Ptr>;
  fflush: Fn<[Ptr], number>;
  ftell: Fn<[Ptr], number>;
  fseek: Fn<[Ptr, number, number], number>;
}

let native: Native | string | undefined;

function loadNative(): Native | string {
  if (native !== undefined) return native;
  if (process.platform !== 'linux') return (native = 'not Linux');
  const pcap = nativeLibrary(SONAMES);
  if (typeof pcap === 'string') return (native = pcap);
  const libc = nativeLibrary(['libc.so.6']);
  if (typeof libc === 'string') return (native = libc);
  try {
    const p = (d: string) => pcap.lib.func(d);
    const c = (d: string) => libc.lib.func(d);
    const setInt = (name: string) => p(`int pcap_set_${name}(void *p, int value)`) as Fn<[Ptr, number], number>;
    const dlopen = c('void *dlopen(const char *name, int flags)') as Fn<[string, number], Ptr>;
    const dlsym = c('void *dlsym(void *handle, const char *name)') as Fn<[Ptr, string], Ptr>;
    const pcapDump = dlsym(dlopen(pcap.name, RTLD_NOW), 'pcap_dump');
    if (!pcapDump) return (native = `no pcap_dump in ${pcap.name}`);
    native = {
      create: p('void *pcap_create(const char *source, char *errbuf)') as Native['create'],
      setInt: {
        snaplen: setInt('snaplen'),
        promisc: setInt('promisc'),
        buffer_size: setInt('buffer_size'),
        timeout: setInt('timeout'),
        immediate_mode: setInt('immediate_mode'),
        tstamp_precision: setInt('tstamp_precision'),
      },
      activate: p('int pcap_activate(void *p)') as Native['activate'],
      geterr: p('const char *pcap_geterr(void *p)') as Native['geterr'],
      statustostr: p('const char *pcap_statustostr(int error)') as Native['statustostr'],
      setnonblock: p('int pcap_setnonblock(void *p, int nonblock, char *errbuf)') as Native['setnonblock'],
      lookupnet: p(
        'int pcap_lookupnet(const char *device, void *net, void *mask, char *errbuf)',
      ) as Native['lookupnet'],
      compile: p(
        'int pcap_compile(void *p, void *program, const char *expr, int optimize, uint32_t netmask)',
      ) as Native['compile'],
      setfilter: p('int pcap_setfilter(void *p, void *program)') as Native['setfilter'],
      freecode: p('void pcap_freecode(void *program)'),
      datalink: p('int pcap_datalink(void *p)') as Native['datalink'],
      dumpFopen: p('void *pcap_dump_fopen(void *p, void *file)') as Native['dumpFopen'],
      dumpClose: p('void pcap_dump_close(void *dumper)'),
      dispatch: p('int pcap_dispatch(void *p, int count, void *callback, void *user)') as Native['dispatch'],
      close: p('void pcap_close(void *p)'),
      pcapDump,
      fmemopen: c('void *fmemopen(void *buf, size_t size, const char *mode)') as Native['fmemopen'],
      fflush: c('int fflush(void *file)') as Native['fflush'],
      ftell: c('long ftell(void *file)') as Native['ftell'],
      fseek: c('int fseek(void *file, long offset, int whence)') as Native['fseek'],
    };
    return native;
  } catch (e) {
    return (native = `koffi cannot call libpcap: ${(e as Error).message.split('\n')[0]}`);
  }
}

/** cap's name for a DLT value (cap's link-type names are what sniff prints). Pure. */
export function dltLinkName(dlt: number): string {
  switch (dlt) {
    case 0:
      return 'NULL';
    case 1:
      return 'ETHERNET';
    case 12: // DLT_RAW on Linux
      return 'RAW';
    case 113:
      return 'LINKTYPE_LINUX_SLL';
    case 127:
      return 'IEEE802_11_RADIO';
  }
  return `Unknown linktype ${dlt}`;
}

export interface PcapCapture {
  iface: string;
  filter: string;
  linkType: number;
  linkName: string;
  snaplen: number;
  /**
   * Hands what the ring holds to `records` as pcap records (nanosecond timestamps, this host's
   * byte order), one call per pcap_dispatch; returns how many packets. `chunk` is valid only
   * during the call.
   */
  read(records: (chunk: Buffer, length: number, packets: number) => void): number;
  close(): void;
}

/**
 * Opens `opts.iface` with libpcap through koffi. Returns why it cannot (no koffi, no libpcap,
 * an interface libpcap may know that /sys does not): then cap is used. Throws CLIError for what
 * the user can fix, worded as with cap (openError).
 */
export function openPcapCapture(opts: LiveCaptureOptions): PcapCapture | string {
  checkLiveOptions(opts);
  const { iface } = opts;
  // cap also asks libpcap's device list for names /sys does not have (nflog, ...): leave those to it.
  if (iface !== 'any' && !existsSync(`/sys/class/net/${iface}`)) return `no /sys/class/net/${iface}`;
  const n = loadNative();
  if (typeof n === 'string') return n;
  const errbuf = Buffer.alloc(512);
  const errText = () => errbuf.toString('utf8', 0, Math.max(0, errbuf.indexOf(0))).trim();
  const p = n.create(iface, errbuf);
  if (!p) throw openError(errText() || 'pcap_create failed', iface, opts.filter);
  const fail = (msg: string, filter = opts.filter): never => {
    n.close(p);
    throw openError(msg, iface, filter);
  };
  const bytes = Math.round(opts.bufferMiB * 1024 * 1024);
  if (
    n.setInt.snaplen(p, CAP_SNAPLEN) ||
    n.setInt.promisc(p, 1) ||
    n.setInt.buffer_size(p, bytes) ||
    n.setInt.timeout(p, BLOCK_TIMEOUT_MS) ||
    n.setInt.immediate_mode(p, 0) ||
    n.setInt.tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO)
  ) {
    n.close(p);
    return 'libpcap refused an option';
  }
  const status = n.activate(p);
  // Positive: a warning (promiscuous mode not supported, ...): the capture works.
  if (status < 0) fail(n.geterr(p) || n.statustostr(status));
  if (n.setnonblock(p, 1, errbuf) < 0) fail(errText());

  // The netmask only matters for `ip broadcast`; unknown when the interface has no IPv4 address.
  const net = Buffer.alloc(4);
  const mask = Buffer.alloc(4);
  const netmask = n.lookupnet(iface, net, mask, errbuf) === 0 ? mask.readUInt32LE(0) : PCAP_NETMASK_UNKNOWN;
  const program = Buffer.alloc(16); // struct bpf_program
  let filter = opts.filter;
  if (n.compile(p, program, filter, 1, netmask) < 0) {
    const msg = n.geterr(p);
    if (!(opts.noVlanFilter && /VLAN/i.test(msg))) fail(msg);
    filter = opts.noVlanFilter!;
    if (n.compile(p, program, filter, 1, netmask) < 0) fail(n.geterr(p), filter);
  }
  const set = n.setfilter(p, program);
  n.freecode(program);
  if (set < 0) fail(n.geterr(p), filter);

  const linkName = dltLinkName(n.datalink(p));
  const linkType = linkTypeNumber(linkName);
  if (linkType === undefined) {
    n.close(p);
    throw new CLIError(`cannot capture on ${iface}: link type ${linkName} is not supported`);
  }

  // The FILE pcap_dump writes to: fmemopen over `staging` (kept referenced by the closures below:
  // the FILE writes into it until closed). pcap_dump_fopen writes a file header first: checked
  // (nanosecond magic in this host's order, as the stream's own header) and skipped.
  const staging = Buffer.allocUnsafeSlow(STAGING);
  const file = n.fmemopen(staging, STAGING, 'w');
  const dumper = file ? n.dumpFopen(p, file) : null;
  if (!dumper) {
    n.close(p);
    return 'fmemopen or pcap_dump_fopen failed';
  }
  n.fflush(file);
  if (n.ftell(file) !== PCAP_FILE_HEADER_LEN || staging.readUInt32LE(0) !== PCAP_MAGIC_NANO) {
    n.dumpClose(dumper);
    n.close(p);
    return 'libpcap writes another pcap header';
  }
  n.fseek(file, 0, 0);

  let open = true;
  return {
    iface,
    filter,
    linkType,
    linkName,
    snaplen: CAP_SNAPLEN,
    read(records) {
      let total = 0;
      while (open) {
        const got = n.dispatch(p, PER_CALL, n.pcapDump, dumper);
        if (got <= 0) break; // nothing ready, or an error (the interface went away): as cap, no more
        n.fflush(file);
        const length = n.ftell(file);
        n.fseek(file, 0, 0);
        total += got;
        records(staging, length, got);
        if (got < PER_CALL) break;
      }
      return total;
    },
    close() {
      if (!open) return;
      open = false;
      n.dumpClose(dumper); // closes the FILE
      n.close(p);
      staging.fill(0, 0, 0); // referenced until here
    },
  };
}
