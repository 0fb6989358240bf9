/**
 * Classic BPF, as libpcap compiles a tcpdump filter expression: the program's text as
 * `tcpdump -ddd` prints it, and an interpreter that runs it on one packet (what the kernel or
 * libpcap's bpf_filter would do), so `analyze` can apply a filter to a capture file. Pure.
 */

export interface BpfInsn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** Scratch memory words (BPF_MEMWORDS). */
const MEMWORDS = 16;

/**
 * Parses `tcpdump -ddd` output: the instruction count, then `code jt jf k` per line.
 * @returns the program, checked (jumps inside it, memory slots in range, ends with a return),
 *   or a reason.
 */
export function parseBpfProgram(text: string): BpfInsn[] | string {
  const lines = text.trim().split('\n');
  const count = Number(lines[0]);
  if (!Number.isInteger(count) || count < 1 || count !== lines.length - 1) return 'not a BPF program listing';
  const prog: BpfInsn[] = [];
  for (const line of lines.slice(1)) {
    const f = line.trim().split(/\s+/).map(Number);
    if (f.length !== 4 || f.some(x => !Number.isInteger(x) || x < 0)) return `bad instruction '${line}'`;
    prog.push({ code: f[0]!, jt: f[1]!, jf: f[2]!, k: f[3]! >>> 0 });
  }
  for (let pc = 0; pc < prog.length; pc++) {
    const { code, jt, jf, k } = prog[pc]!;
    const cls = code & 0x07;
    if (cls === 0x05) {
      const far = (code & 0xf0) === 0x00 ? k : Math.max(jt, jf);
      if (pc + 1 + far >= prog.length) return `jump out of the program at instruction ${pc}`;
    }
    const mem = (cls === 0x00 || cls === 0x01) && (code & 0xe0) === 0x60;
    if ((mem || cls === 0x02 || cls === 0x03) && k >= MEMWORDS) return `memory slot ${k} at instruction ${pc}`;
  }
  if ((prog[prog.length - 1]!.code & 0x07) !== 0x06) return 'the program does not end with a return';
  return prog;
}

/**
 * Runs `prog` on the packet `buf[off, off + caplen)` whose length on the wire is `wirelen`.
 * @returns the number of bytes to keep: 0 rejects the packet. A load past the captured bytes
 *   rejects it, as in the kernel.
 */
export function runBpf(
  prog: readonly BpfInsn[],
  buf: Uint8Array,
  off: number,
  caplen: number,
  wirelen: number,
): number {
  let a = 0;
  let x = 0;
  const mem = new Uint32Array(MEMWORDS);
  const load = (at: number, size: number): number | undefined => {
    if (at < 0 || at + size > caplen) return undefined;
    const p = off + at;
    if (size === 1) return buf[p]!;
    if (size === 2) return (buf[p]! << 8) | buf[p + 1]!;
    return ((buf[p]! << 24) | (buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!) >>> 0;
  };
  for (let pc = 0; pc < prog.length; pc++) {
    const { code, jt, jf, k } = prog[pc]!;
    switch (code & 0x07) {
      case 0x00: // LD
      case 0x01: {
        // LDX
        const mode = code & 0xe0;
        const size = [4, 2, 1, 0][(code & 0x18) >> 3]!;
        let v: number | undefined;
        if (mode === 0x00) v = k;
        else if (mode === 0x20) v = load(k, size);
        else if (mode === 0x40) v = load(x + k, size);
        else if (mode === 0x60) v = mem[k];
        else if (mode === 0x80) v = wirelen;
        else if (mode === 0xa0) {
          const b = load(k, 1);
          v = b === undefined ? undefined : (b & 0x0f) * 4;
        }
        if (v === undefined) return 0;
        if ((code & 0x07) === 0x00) a = v >>> 0;
        else x = v >>> 0;
        break;
      }
      case 0x02: // ST
        mem[k] = a;
        break;
      case 0x03: // STX
        mem[k] = x;
        break;
      case 0x04: {
        // ALU
        const v = code & 0x08 ? x : k;
        switch (code & 0xf0) {
          case 0x00:
            a = (a + v) >>> 0;
            break;
          case 0x10:
            a = (a - v) >>> 0;
            break;
          case 0x20:
            a = Math.imul(a, v) >>> 0;
            break;
          case 0x30:
            if (v === 0) return 0;
            a = Math.floor(a / v) >>> 0;
            break;
          case 0x40:
            a = (a | v) >>> 0;
            break;
          case 0x50:
            a = (a & v) >>> 0;
            break;
          case 0x60:
            a = v < 32 ? (a << v) >>> 0 : 0;
            break;
          case 0x70:
            a = v < 32 ? a >>> v : 0;
            break;
          case 0x80:
            a = -a >>> 0;
            break;
          case 0x90:
            if (v === 0) return 0;
            a = a % v;
            break;
          case 0xa0:
            a = (a ^ v) >>> 0;
            break;
          default:
            return 0;
        }
        break;
      }
      case 0x05: {
        // JMP
        const v = code & 0x08 ? x : k;
        const op = code & 0xf0;
        if (op === 0x00) {
          pc += k;
          break;
        }
        const taken =
          op === 0x10 ? a === v : op === 0x20 ? a > v : op === 0x30 ? a >= v : op === 0x40 ? (a & v) !== 0 : false;
        pc += taken ? jt : jf;
        break;
      }
      case 0x06: // RET
        return (code & 0x18) === 0x10 ? a : code & 0x08 ? x : k;
      default: // MISC
        if ((code & 0xf8) === 0x80) a = x;
        else x = a;
    }
  }
  return 0;
}
