/**
 * Sends UDP datagrams with node:dgram, run inside a network namespace by tests and the burst
 * benchmark (`ip netns exec NS node dist/test/helpers/send-datagrams.js < spec.json`). The spec is
 * netns.ts SendSpec. Prints `{"sent":N}` when every send has completed.
 */
import dgram from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SendSpec } from './netns.js';

async function main(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const spec = JSON.parse(Buffer.concat(chunks).toString('utf8')) as SendSpec;
  const payloads: Buffer[] = [
    ...(spec.payloads ?? []).map(p => Buffer.from(p, 'latin1')),
    ...(spec.base64 ?? []).map(p => Buffer.from(p, 'base64')),
  ];
  const sock = dgram.createSocket(spec.to.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(spec.fromPort ?? 6665, () => resolve());
  });
  // A large send buffer so a burst queues in the kernel rather than in libuv.
  sock.setSendBufferSize(8 << 20);
  const send = (b: Buffer) =>
    new Promise<void>((resolve, reject) => sock.send(b, spec.port, spec.to, e => (e ? reject(e) : resolve())));
  let sent = 0;
  for (const p of payloads) {
    await send(p);
    sent++;
    if (spec.gapMs) await sleep(spec.gapMs);
  }
  if (spec.burst) {
    // Fire without waiting for each callback (as fast as libuv can write), then wait for all.
    const pending: Array<Promise<void>> = [];
    for (let i = 1; i <= spec.burst; i++) {
      pending.push(send(Buffer.from(`6,${i},${1000000 + i},-;burst message ${i}\n`)));
      if (pending.length >= (spec.burstBatch ?? 1024)) {
        await Promise.all(pending);
        sent += pending.length;
        pending.length = 0;
        if (spec.gapMs) await sleep(spec.gapMs);
      }
    }
    await Promise.all(pending);
    sent += pending.length;
  }
  sock.close();
  process.stdout.write(`${JSON.stringify({ sent })}\n`);
}

main().catch((e: Error) => {
  process.stderr.write(`send-datagrams: ${e.message}\n`);
  process.exit(1);
});
