/**
 * A fleet run with its senders behind one NAT router, on the real lab: three guests (6.1 and 6.17
 * healthy, a 6.1 whose remote MAC is wrong) masqueraded to the router's address, so every datagram
 * arrives from 10.99.1.254 and the senders differ only by source port (masquerade keeps 6665 for
 * the first and maps the others). One lab boot: one fleet run, then each sender alone; each must
 * get the same verdict and the same checks in both.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { haveCommand, requiring } from './helpers/prereq.js';
import {
  inventoryLine,
  labNames,
  labRequirements,
  senderArgs,
  verifyOnLab,
  withLab,
  writeInventory,
  type LabState,
} from './lab-driver.js';

const test = requiring(labRequirements([haveCommand('iptables'), 'iptables']));
const lab = labNames('n').n;

interface Check {
  id: string;
  status: string;
  detail: string;
}
interface Doc {
  name?: string;
  ok: boolean;
  error?: string | null;
  rootCause: { code: string } | null;
  checks: Check[];
}

const verify = async (s: LabState, args: string[]) => {
  const r = await verifyOnLab(s, ['--timeout', '8', '--json', ...args], 300_000);
  try {
    return { ...r, json: JSON.parse(r.stdout) as unknown };
  } catch {
    throw new Error(`verify printed no JSON (exit ${r.code}): ${r.stdout.trim()} ${r.stderr.trim()}`);
  }
};

/**
 * A check as both runs must show it. Differing by nature: the marker, the latency, the counters'
 * span (the run's, in a fleet), packet numbers (a single verify's capture numbers other senders'
 * datagrams too) and the port the router maps to (its mapping may expire between the runs).
 */
const shown = (c: Check) =>
  `${c.id} ${c.status} ${
    c.id === 'verify.trigger' || c.id === 'verify.counters'
      ? ''
      : c.detail
          .replace(/\d+ ms/g, 'N ms')
          .replace(/#\d+/g, '#N')
          .replace(/(\d):\d+\b/g, '$1:PORT')
  }`;

test.serial(
  'three senders behind one NAT router in one fleet run: each found by its marker, told apart by port, the verdict it gets alone',
  async t => {
    const specs = ['kernel=6.1', 'kernel=6.17', 'kernel=6.1,remote-mac=wrong'];
    const want: Array<string | null> = [null, null, 'router-mac-required'];
    const opts = ['--router', '--router-nat', '--guests', '3', ...specs.flatMap(g => ['--guest', g])];
    await withLab(t, lab('nat'), opts, async s => {
      const nat = s.router!.receiverSideIp.replace(/\./g, '\\.');
      const dir = mkdtempSync(join(tmpdir(), 'nd-fleet-nat-'));
      try {
        const inv = writeInventory(dir, [
          '[senders]',
          ...s.guests.map((g, i) => inventoryLine(`guest${i + 1}`, g.ssh)),
        ]);
        const fleet = await verify(s, ['--inventory', inv]);
        const docs = (fleet.json as { results: Doc[] }).results;
        t.is(fleet.code, 1, fleet.stderr);
        t.deepEqual(
          docs.map(d => [d.name, d.error, d.rootCause?.code ?? null]),
          specs.map((_, i) => [`guest${i + 1}`, null, want[i]]),
          JSON.stringify(docs.map(d => d.checks.filter(c => c.status === 'fail'))),
        );
        // The healthy ones: each from the router's address, on a port of its own.
        const ports = docs.slice(0, 2).map(d => {
          const wire = d.checks.find(c => c.id === 'verify.wire')!.detail;
          const m = new RegExp(`from ${nat}:(\\d+), not 10\\.99\\.0\\.\\d+: a router on the way translates`).exec(wire);
          t.truthy(m, wire);
          return m?.[1];
        });
        t.not(ports[0], ports[1], `told apart by port: ${ports.join(', ')}`);
        t.log(
          `translated sources: ${ports.map(p => `${s.router!.receiverSideIp}:${p}`).join(', ')}; fleet ${fleet.wallMs} ms`,
        );

        // Each alone: the same verdict and checks.
        for (let i = 0; i < s.guests.length; i++) {
          const one = await verify(s, senderArgs(s.guests[i]!.ssh));
          const d = one.json as Doc;
          t.is(one.code, want[i] ? 1 : 0, one.stderr);
          t.is(d.rootCause?.code ?? null, want[i] ?? null, `guest${i + 1} alone`);
          t.deepEqual(docs[i]!.checks.map(shown), d.checks.map(shown), `guest${i + 1}: the fleet's checks are its own`);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  },
);
