/**
 * sniff with tcpdump's habits, on the loopback interface (root: libpcap): -i IFACE, a trailing
 * filter expression that narrows the capture, -w - writing the capture to stdout (the report on
 * stderr), and -D listing the interfaces.
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { cliPath } from './helpers/cli.js';
import { isRoot, requiring } from './helpers/prereq.js';
import { formatExtended } from '../src/decode/netconsole.js';

const asRoot = requiring([[isRoot(), 'root (libpcap on lo)']]);

test('-D lists the interfaces with their state and addresses, as tcpdump -D', t => {
  const r = spawnSync(process.execPath, [cliPath, 'sniff', '-D'], { encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /^\d+\.lo \[Up, Running, Loopback\] 127\.0\.0\.1\/8/m);
  t.regex(r.stdout, /^\d+\.any \(Pseudo-device that captures on all interfaces\)/m);
  t.is(spawnSync(process.execPath, [cliPath, 'sniff', '--list-interfaces'], { encoding: 'utf8' }).stdout, r.stdout);
});

asRoot.serial('-i lo, a trailing filter, -w -: pcap on stdout with only the packets the filter keeps', async t => {
  const proc = spawn(process.execPath, [cliPath, 'sniff', '-i', 'lo', '-c', '2', '-w', '-', 'udp', 'port', '6666'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  const out: Buffer[] = [];
  let err = '';
  proc.stdout.on('data', (d: Buffer) => out.push(d));
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<number | null>(resolve => proc.on('close', code => resolve(code)));
  // Wait until it listens, then send to 514 (the filter drops it) and twice to 6666.
  for (let i = 0; i < 200 && !/listening on lo/.test(err); i++) await new Promise(r => setTimeout(r, 50));
  t.regex(err, /listening on lo, .*filter: \(.*\) and \(udp port 6666\)/);
  const sock = createSocket('udp4');
  const send = (port: number, seq: number) =>
    new Promise<void>(resolve =>
      sock.send(
        formatExtended({ facility: 0, level: 6, seq, usec: seq, flags: '-' }, `hello ${seq}\n`),
        port,
        '127.0.0.1',
        () => resolve(),
      ),
    );
  await send(514, 1);
  await send(6666, 2);
  await send(6666, 3);
  const timer = setTimeout(() => proc.kill('SIGTERM'), 15_000);
  const code = await done;
  clearTimeout(timer);
  sock.close();
  t.is(code, 0, err);
  const pcap = Buffer.concat(out);
  t.is(pcap.readUInt32LE(0), 0xa1b2c3d4, 'a pcap file on stdout');
  t.regex(err, /hello 2/, 'the report on stderr');
  t.regex(err, /hello 3/);
  t.notRegex(err, /hello 1/, 'port 514 was filtered out');
  // Read back by netdiag itself: two packets.
  const back = spawnSync(process.execPath, [cliPath, 'analyze', '-q', '-'], { input: pcap, encoding: 'utf8' });
  t.regex(back.stdout, /: 2 packets/);
});
