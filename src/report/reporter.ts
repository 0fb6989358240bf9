/**
 * Writes an analysis as it happens, in the format the user chose: text (a line per message, then
 * the summary), `--json` (one document, messages streamed first), or `--jsonl` (a line per
 * message, then one line with the summary). Shared by analyze, sniff and verify.
 */
import type { CaptureSummary } from '../capture/sink.js';
import { sortFindings } from '../findings/finding.js';
import { EXIT_FINDINGS, EXIT_OK } from '../errors.js';
import type { AnalysisResult, Message } from '../pipeline/types.js';
import { documentTail, documentTailObject, messageJson } from './json.js';
import { safeJson } from './escape.js';
import { Output } from './output.js';
import type { Style } from './style.js';
import { formatCapture, formatMessageLine, formatSummary } from './text.js';

export type ReportFormat = 'text' | 'json' | 'jsonl';

export interface ReporterOptions {
  format: ReportFormat;
  /** Text only: leave out the message lines, print the summary. */
  summaryOnly?: boolean;
  style: Style;
}

export interface CaptureInfo {
  path: string;
  summary?: CaptureSummary;
}

export class Reporter {
  readonly out: Output;
  private messages = 0;
  constructor(stream: NodeJS.WritableStream, private readonly opts: ReporterOptions) {
    this.out = new Output(stream);
  }

  /** True when messages must be decoded for output (the pipeline skips text decoding otherwise). */
  get wantsMessages(): boolean {
    return this.opts.format !== 'text' || !this.opts.summaryOnly;
  }

  message = (m: Message): void => {
    switch (this.opts.format) {
      case 'text':
        if (!this.opts.summaryOnly) this.out.write(formatMessageLine(m, this.opts.style));
        break;
      case 'jsonl':
        this.out.write(`${safeJson({ type: 'message', ...messageJson(m) })}\n`);
        break;
      case 'json':
        // The document starts with the first message (or at the end): an error before then leaves
        // stdout empty, not half a document.
        this.out.write(`${this.messages ? ',' : '{"messages":['}${safeJson(messageJson(m))}`);
        break;
    }
    this.messages++;
  };

  /** Writes the summary and returns the exit code: 1 with an error finding, else 0. */
  finish(capture: CaptureInfo, result: AnalysisResult): number {
    result = { ...result, findings: sortFindings(result.findings) };
    const c = capture.summary;
    const cap = { path: capture.path, format: c?.format ?? ('live' as const), packets: result.packets, truncated: c?.truncated ?? false, ...(c?.truncation ? { truncation: c.truncation } : {}) };
    switch (this.opts.format) {
      case 'text':
        if (this.messages && !this.opts.summaryOnly) this.out.write('\n');
        this.out.write(formatCapture(capture.path, c, result));
        this.out.write(formatSummary(result, this.opts.style));
        break;
      case 'jsonl':
        this.out.write(`${safeJson({ type: 'summary', ...documentTailObject(cap, result) })}\n`);
        break;
      case 'json':
        this.out.write(`${this.messages ? '' : '{"messages":['}],${documentTail(cap, result)}\n`);
        break;
    }
    this.out.flush();
    return result.findings.some(f => f.severity === 'error') ? EXIT_FINDINGS : EXIT_OK;
  }
}
