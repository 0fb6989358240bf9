/**
 * Writes an analysis as it happens, in the format the user chose: text (a line per message, then
 * the summary), `--json` (one document, messages streamed first), or `--jsonl` (a line per
 * message, then one line with the summary). Shared by analyze, sniff and verify.
 */
import type { CaptureSummary } from '../capture/sink.js';
import { sortFindings } from '../findings/finding.js';
import { EXIT_FINDINGS, EXIT_OK } from '../errors.js';
import type { AnalysisResult, Message, MessageBytes } from '../pipeline/types.js';
import { documentTail, documentTailObject } from './json.js';
import { safeJson } from './escape.js';
import { Output } from './output.js';
import type { Style } from './style.js';
import { formatCapture, formatInterrupted, formatMessageDetail, formatMessageLine, formatSummary } from './text.js';
import { TextTime } from './time.js';
import { TextLineEncoder } from './text-bytes.js';
import { JsonLineEncoder } from './json-bytes.js';
import { PLAIN } from './style.js';

export type ReportFormat = 'text' | 'json' | 'jsonl';

export interface ReporterOptions {
  format: ReportFormat;
  /** Text only: leave out the message lines, print the summary. */
  summaryOnly?: boolean;
  /** Text only: a second line per message with its packet numbers, sequence number, facility and flags. */
  verbose?: boolean;
  style: Style;
  /**
   * Text: times in UTC instead of the local zone (--utc). JSON is always UTC.
   * @default false
   */
  utc?: boolean;
}

/** How far the messages of a report went: what its summary depends on. */
export interface ReportProgress {
  messages: number;
  zoneShown: boolean;
}

export interface CaptureInfo {
  path: string;
  summary?: CaptureSummary;
  /** Set when the user stopped the run (Ctrl-C, SIGTERM): the report covers what was read. */
  interrupted?: string;
}

export class Reporter {
  readonly out: Output;
  private messages = 0;
  private readonly time: TextTime;
  private zoneShown = false;
  /** Message lines as bytes, when there is no colour to add. */
  private readonly encoder: TextLineEncoder | undefined;
  private readonly json: JsonLineEncoder;
  constructor(
    stream: NodeJS.WritableStream,
    private readonly opts: ReporterOptions,
  ) {
    this.out = new Output(stream);
    this.time = new TextTime(opts.utc === true);
    if (opts.style === PLAIN) this.encoder = new TextLineEncoder(this.out, this.time);
    this.json = new JsonLineEncoder(this.out);
  }

  /** Text: the zone the times are in, once, before the first time is shown. */
  private zoneLine(sec: number): void {
    if (this.zoneShown) return;
    this.zoneShown = true;
    this.out.write(`times in ${this.time.zone(sec)}\n`);
  }

  /** True when messages must be decoded for output (the pipeline skips text decoding otherwise). */
  get wantsMessages(): boolean {
    return this.opts.format !== 'text' || !this.opts.summaryOnly;
  }

  message = (m: Message): void => {
    switch (this.opts.format) {
      case 'text':
        if (!this.opts.summaryOnly) {
          if (!this.zoneShown) this.zoneLine(m.time.sec);
          if (!this.encoder?.write(m)) this.out.write(formatMessageLine(m, this.opts.style, this.time));
          if (this.opts.verbose) this.out.write(formatMessageDetail(m, this.opts.style));
        }
        break;
      case 'jsonl':
        this.json.writeMessage(m, 'jsonl');
        break;
      case 'json':
        // The document starts with the first message (or at the end): an error before then leaves
        // stdout empty, not half a document.
        this.json.writeMessage(m, this.messages ? 'next' : 'first');
        break;
    }
    this.messages++;
  };

  /**
   * The pipeline's bytes fast path (PipelineOptions.onMessageBytes): the same output as `message`
   * for the common message, written from its datagram's bytes. False leaves it to `message`.
   */
  messageBytes = (m: MessageBytes): boolean => {
    switch (this.opts.format) {
      case 'text':
        if (this.opts.summaryOnly || this.opts.verbose || !this.zoneShown || !this.encoder?.writeBytes(m)) return false;
        break;
      case 'jsonl':
        if (!this.json.writeBytes(m, 'jsonl')) return false;
        break;
      case 'json':
        if (!this.json.writeBytes(m, this.messages ? 'next' : 'first')) return false;
        break;
    }
    this.messages++;
    return true;
  };

  /**
   * A message already written as this report's bytes (report-thread.ts: the main thread writes
   * the JSON of the rare Messages itself, see JsonLineEncoder.writeMessage), copied as it is.
   */
  encoded = (b: Uint8Array, from: number, to: number): void => {
    const out = this.out;
    while (from < to) {
      const n = Math.min(to - from, Output.MAX_RESERVE);
      out.reserve(n).set(b.subarray(from, from + n), out.off);
      out.off += n;
      from += n;
    }
    this.messages++;
  };

  /** How far the messages went (report-thread.ts: the thread that wrote them tells the main one). */
  get progress(): ReportProgress {
    return { messages: this.messages, zoneShown: this.zoneShown };
  }

  /** Goes on after messages another Reporter wrote to the same output: `finish` follows them. */
  resume(p: ReportProgress): void {
    this.messages = p.messages;
    this.zoneShown = p.zoneShown;
  }

  /** Writes the summary and returns the exit code: 1 with an error finding, else 0. */
  finish(capture: CaptureInfo, result: AnalysisResult): number {
    result = { ...result, findings: sortFindings(result.findings) };
    const c = capture.summary;
    const cap = {
      path: capture.path,
      format: c?.format ?? ('live' as const),
      packets: result.packets,
      truncated: c?.truncated ?? false,
      ...(c?.truncation ? { truncation: c.truncation } : {}),
    };
    const stopped = capture.interrupted !== undefined;
    switch (this.opts.format) {
      case 'text':
        if (this.messages && !this.opts.summaryOnly) this.out.write('\n');
        else this.zoneLine(result.senders[0]?.first.sec ?? Math.floor(Date.now() / 1000));
        this.out.write(formatCapture(capture.path, c, result));
        if (stopped) this.out.write(formatInterrupted(capture.interrupted!, this.opts.style));
        this.out.write(formatSummary(result, this.opts.style, this.time));
        break;
      case 'jsonl':
        this.out.write(
          `${safeJson({ type: 'summary', ...(stopped ? { interrupted: true } : {}), ...documentTailObject(cap, result) })}\n`,
        );
        break;
      case 'json':
        this.out.write(
          `${this.messages ? '' : '{"messages":['}],${stopped ? '"interrupted":true,' : ''}${documentTail(cap, result)}\n`,
        );
        break;
    }
    this.out.flush();
    return result.findings.some(f => f.severity === 'error') ? EXIT_FINDINGS : EXIT_OK;
  }
}
