/**
 * Reads a capture file (pcap or pcapng, optionally gzip-compressed) into a PacketSink.
 * The I/O half of the capture reader: opening, chunking, decompressing and turning system
 * errors into one-line CLIErrors. All decoding is in reader.ts.
 */
import * as fs from 'node:fs';
import { CLIError, EXIT_USAGE } from '../errors.js';
import { CaptureDecoder } from './reader.js';
import type { CaptureSummary, PacketSink } from './sink.js';

export interface ReadCaptureOptions {
  /**
   * Called after each chunk with the bytes read from the file so far (compressed bytes for a
   * gzip file) and the file's size (0 when unknown, e.g. a pipe).
   */
  onProgress?: (bytesRead: number, totalBytes: number) => void | Promise<void>;
  /**
   * Bytes per read.
   * @default 4194304
   */
  chunkSize?: number;
  /**
   * Stops reading after the chunk in hand (Ctrl-C): the summary covers what was read, and a
   * record cut by the stop is not counted as damage.
   */
  signal?: AbortSignal;
  /**
   * Read this open descriptor (0: standard input, a pipe) instead of opening `path`, which then
   * only names it in messages. It is read as a stream from where it stands and is not closed.
   */
  fd?: number;
}

const DEFAULT_CHUNK = 4 * 1024 * 1024;

/** Shows a file name safely on a terminal: control and non-ASCII bytes as \xNN. */
function shown(path: string): string {
  return path.replace(/[^\x20-\x7e]/gu, ch => {
    const cp = ch.codePointAt(0)!;
    return cp <= 0xff ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u{${cp.toString(16)}}`;
  });
}

function openError(path: string, err: unknown): CLIError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const name = shown(path);
  switch (code) {
    case 'ENOENT':
      return new CLIError(`${name}: no such file`, EXIT_USAGE);
    case 'EACCES':
    case 'EPERM':
      return new CLIError(`${name}: permission denied`, EXIT_USAGE);
    case 'EISDIR':
      return new CLIError(`${name}: is a directory, not a capture file`, EXIT_USAGE);
    case 'ENOTDIR':
      return new CLIError(`${name}: a component of the path is not a directory`, EXIT_USAGE);
    case 'ELOOP':
      return new CLIError(`${name}: too many symbolic links`, EXIT_USAGE);
    case 'ENAMETOOLONG':
      return new CLIError(`${name}: file name too long`, EXIT_USAGE);
    default:
      return new CLIError(`${name}: cannot read (${code ?? 'unknown error'})`, EXIT_USAGE);
  }
}

function notCapture(path: string, decoder: CaptureDecoder, gzip: boolean): CLIError {
  const reason = decoder.reason ?? 'not a pcap or pcapng capture';
  return new CLIError(`${shown(path)}: ${gzip ? `${reason}, after gzip decompression` : reason}`, EXIT_USAGE);
}

/**
 * Reads the capture file at `path` and hands every packet to `sink`. Memory stays flat: two
 * reused read buffers for a regular file, one for a pipe (plus the decoder's carry for a record
 * that straddles two reads).
 *
 * @returns what was read; `truncated` when the file ends inside a record or is damaged.
 * @throws CLIError (exit 2, one line) when the file is missing, a directory, unreadable, empty,
 *   or not a pcap/pcapng capture.
 */
export async function readCaptureFile(
  path: string,
  sink: PacketSink,
  opts: ReadCaptureOptions = {},
): Promise<CaptureSummary> {
  const chunkSize = Math.max(64, Math.min(opts.chunkSize ?? DEFAULT_CHUNK, 64 * 1024 * 1024));
  let fd: number;
  try {
    fd = opts.fd ?? fs.openSync(path, 'r');
  } catch (err) {
    throw openError(path, err);
  }
  const close = opts.fd === undefined;
  try {
    let st: fs.Stats;
    try {
      st = fs.fstatSync(fd);
    } catch (err) {
      throw openError(path, err);
    }
    if (st.isDirectory()) throw openError(path, Object.assign(new Error(), { code: 'EISDIR' }));
    const total = st.isFile() ? st.size : 0;
    let buf = Buffer.allocUnsafe(chunkSize);
    let n: number;
    try {
      n = await readSome(fd, buf);
    } catch (err) {
      throw openError(path, err);
    }
    if (n === 0) throw new CLIError(`${shown(path)}: empty file, not a capture`, EXIT_USAGE);
    if (n >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
      // Hand the fd to a stream that goes on from here (a pipe cannot seek back), after the
      // bytes already read; the stream closes it unless it was handed in.
      const fdForStream = fd;
      fd = -1;
      return await readGzip(path, fdForStream, close, Buffer.from(buf.subarray(0, n)), total, sink, opts);
    }

    const decoder = new CaptureDecoder(sink);
    // A regular file: the next chunk is read by libuv's thread pool into a second buffer while
    // this one is decoded, so the copy out of the page cache runs beside the decoding (a third of
    // a -q run's time in the main thread, read there). A pipe is read in turn, as before.
    let spare = st.isFile() ? Buffer.allocUnsafe(chunkSize) : undefined;
    let ahead: Promise<number | Error> | undefined;
    let bytesRead = 0;
    try {
      for (;;) {
        bytesRead += n;
        if (spare) ahead = readAhead(fd, spare);
        // The decoder is finished with `buf` when push returns (the sink is synchronous).
        const more = decoder.push(n === chunkSize ? buf : buf.subarray(0, n));
        // A consumer that cannot keep up (a slow stdout pipe) returns a promise: wait for it.
        const wait = opts.onProgress?.(bytesRead, total);
        if (wait) await wait;
        if (decoder.status === 'not-capture') throw notCapture(path, decoder, false);
        if (!more) break;
        if (opts.signal?.aborted) return stoppedEarly(decoder);
        try {
          if (ahead && spare) {
            const got = await ahead;
            ahead = undefined;
            if (got instanceof Error) throw got;
            n = got;
            [buf, spare] = [spare, buf];
          } else {
            n = await readSome(fd, buf);
          }
        } catch (err) {
          // A read error half-way (EIO, a file shrunk under us) ends the file where it ended.
          const s = decoder.end();
          return {
            ...s,
            truncated: true,
            truncation:
              s.truncation ??
              `read error after ${bytesRead} bytes (${(err as NodeJS.ErrnoException).code ?? 'unknown'})`,
          };
        }
        if (n === 0) break;
      }
    } finally {
      // A read still under way must end before the descriptor is closed (or reused).
      if (ahead) await ahead;
    }
    if (decoder.status === 'detecting') {
      decoder.end();
      throw notCapture(path, decoder, false);
    }
    return decoder.end();
  } finally {
    if (fd >= 0 && close) fs.closeSync(fd);
  }
}

/** One read in libuv's thread pool; its error is the value, so a read nobody awaits cannot reject unhandled. */
function readAhead(fd: number, buf: Buffer): Promise<number | Error> {
  return new Promise(resolve => fs.read(fd, buf, 0, buf.length, null, (err, n) => resolve(err ?? n)));
}

/** One read; a descriptor left non-blocking by another program (EAGAIN) is waited for. */
async function readSome(fd: number, buf: Buffer): Promise<number> {
  for (;;) {
    try {
      return fs.readSync(fd, buf, 0, buf.length, null);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      await new Promise(resolve => setTimeout(resolve, 5));
    }
  }
}

async function readGzip(
  path: string,
  fd: number,
  close: boolean,
  head: Buffer,
  total: number,
  sink: PacketSink,
  opts: ReadCaptureOptions,
): Promise<CaptureSummary> {
  // Loaded only for a gzip file: most captures are not, and every module loaded is start-up time.
  const zlib = await import('node:zlib');
  const decoder = new CaptureDecoder(sink);
  const file = fs.createReadStream('', { fd, highWaterMark: 1024 * 1024, autoClose: close });
  // Modest output chunks: when the stream turns out damaged, zlib drops its unflushed output,
  // so a smaller chunk loses less of what came before the damage.
  const gunzip = zlib.createGunzip({ chunkSize: 256 * 1024 });
  file.on('error', err => gunzip.destroy(err));
  gunzip.write(head);
  file.pipe(gunzip);
  let gzipError: Error | undefined;
  let sinkError: unknown;
  let out = 0;
  try {
    for await (const chunk of gunzip) {
      const c = chunk as Buffer;
      out += c.length;
      let more: boolean;
      try {
        more = decoder.push(c);
        await opts.onProgress?.(head.length + file.bytesRead, total);
      } catch (err) {
        // Not the gzip stream's fault: a bug in the sink or callback, to be seen as such.
        sinkError = err;
        break;
      }
      if (!more) break;
      if (opts.signal?.aborted) break;
    }
  } catch (err) {
    gzipError = err as Error;
  } finally {
    file.unpipe(gunzip);
    gunzip.destroy();
    file.destroy(); // closes the descriptor only when autoClose
  }
  if (sinkError !== undefined)
    throw sinkError instanceof Error ? sinkError : new Error('a packet sink threw a non-Error');
  if (decoder.status === 'not-capture') throw notCapture(path, decoder, true);
  if (out === 0) {
    throw new CLIError(
      gzipError
        ? `${shown(path)}: gzip stream unreadable before any data (${gzipReason(gzipError)})`
        : `${shown(path)}: empty after gzip decompression, not a capture`,
      EXIT_USAGE,
    );
  }
  if (decoder.status === 'detecting') {
    decoder.end();
    throw notCapture(path, decoder, true);
  }
  const s = opts.signal?.aborted && !gzipError ? stoppedEarly(decoder) : decoder.end();
  const detail = s.detail ? `${s.detail}, gzip-compressed` : 'gzip-compressed';
  if (gzipError && !s.truncated) {
    return {
      ...s,
      detail,
      truncated: true,
      truncation: `gzip stream damaged after ${out} decompressed bytes (${gzipReason(gzipError)})`,
    };
  }
  return { ...s, detail };
}

/** The summary of a read stopped on request: a record cut by the stop is not damage. */
function stoppedEarly(decoder: CaptureDecoder): CaptureSummary {
  const reading = decoder.status === 'reading';
  const s = decoder.end();
  if (!reading || !s.truncated) return s;
  const { truncation: _, ...rest } = s;
  return { ...rest, truncated: false };
}

function gzipReason(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'Z_BUF_ERROR') return 'unexpected end of file';
  if (code === 'Z_DATA_ERROR') return `corrupt data: ${err.message.replace(/[^\x20-\x7e]/g, '?')}`;
  return (code ?? err.message).replace(/[^\x20-\x7e]/g, '?');
}
