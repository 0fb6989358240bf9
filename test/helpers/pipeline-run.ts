/** Runs frames through the real pipeline, in-process, and collects what comes out. */
import { createPipeline } from '../../src/pipeline/pipeline.js';
import type { AnalysisResult, Message, PipelineOptions } from '../../src/pipeline/types.js';

export interface TimedFrame {
  data: Buffer;
  /** Seconds (fractional) since an arbitrary epoch. */
  t: number;
}

export function runFrames(
  frames: ReadonlyArray<Buffer | TimedFrame>,
  opts: PipelineOptions = {},
): { messages: Message[]; result: AnalysisResult } {
  const messages: Message[] = [];
  const p = createPipeline({ ...opts, onMessage: m => messages.push(m) });
  frames.forEach((f, i) => {
    const { data, t } = Buffer.isBuffer(f)
      ? { data: f, t: 1_700_000_000 + i * 0.001 }
      : { data: f.data, t: 1_700_000_000 + f.t };
    const sec = Math.floor(t);
    p.packet(data, 0, data.length, data.length, sec, Math.round((t - sec) * 1e6) * 1000, 1);
  });
  return { messages, result: p.finish() };
}

export const codes = (r: AnalysisResult) => r.findings.map(f => f.code).sort();
