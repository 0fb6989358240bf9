/**
 * Standard output as the capture writer's file (sniff -w -): descriptor 1, never closed, written
 * whole even when Node has made it non-blocking (a pipe or socket that is full answers EAGAIN:
 * wait a millisecond and write the rest, as tcpdump -w - blocks on a slow reader).
 */
import { writeSync } from 'node:fs';
import type { WriterFs } from '../capture/pcap-writer.js';

const pause = new Int32Array(new SharedArrayBuffer(4));

export const stdoutFile: WriterFs = {
  openSync: () => 1,
  closeSync: () => {},
  writeSync(fd, buf, offset, length) {
    for (;;) {
      try {
        return writeSync(fd, buf, offset, length);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        Atomics.wait(pause, 0, 0, 1);
      }
    }
  },
};
