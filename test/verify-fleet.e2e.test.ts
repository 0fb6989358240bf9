/**
 * netdiag verify with many senders against the real lab: guests in QEMU sending netconsole to a
 * log-server namespace with rsyslog, reached over real OpenSSH through an Ansible inventory, one
 * libpcap capture for the whole run. Mixed verdicts (healthy, wrong MAC, a firewall rule for one
 * sender's source, two kernels) must each be what a single verify of that sender says, and
 * senders that cannot be reached must be "could not be checked" with ssh's reason while the
 * others are checked.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requiring } from './helpers/prereq.js';
import {
  inventoryLine,
  lab,
  labDown,
  labRequirements,
  labNames,
  labUp,
  senderArgs,
  verifyOnLab,
  writeInventory,
  type LabState,
} from './lab-driver.js';

/** Lab names with this run's tag: another checkout's tests may have a lab up at the same time. */
const { n } = labNames('f');
const E1 = n('e1');
const E4 = n('e4');

const test = requiring(labRequirements());

interface Doc {
  name: string;
  sender: string;
  ok: boolean;
  error: string | null;
  rootCause: { code: string } | null;
  roundTripMs: number | null;
  elapsedMs: number;
  checks: Array<{ id: string; status: string }>;
}
interface FleetJson {
  ok: boolean;
  results: Doc[];
  receiver: { captures: string[]; checks: Array<{ id: string }> };
  elapsedMs: number;
}

/** verify in the log server namespace, with a shorter timeout than a single verify's test. */
const netdiag = (s: LabState, args: string[]) => verifyOnLab(s, ['--timeout', '6', ...args], 300_000);

function parse(r: { code: number; stdout: string; stderr: string }): FleetJson {
  try {
    return JSON.parse(r.stdout) as FleetJson;
  } catch {
    throw new Error(`verify printed no JSON (exit ${r.code}): ${r.stderr.trim()}`);
  }
}

const times: string[] = [];
test.after.always(() => {
  if (times.length) console.log(`fleet verify times: ${times.join('; ')}`);
});

test.serial(
  'one working sender among unreachable ones: it is checked, they are "could not be checked" with ssh\'s reason, exit 2',
  async t => {
    const s = await labUp(E1, ['--kernel', '6.17'], 400_000);
    const dir = mkdtempSync(join(tmpdir(), 'nd-fleet-e2e-'));
    try {
      const g = s.ssh;
      const inv = writeInventory(dir, [
        '[lab]',
        inventoryLine('guest1', g),
        // The log server itself runs no sshd: refused at once.
        `refused ansible_host=${s.receiver.ip} ansible_user=root`,
        '[gone]',
        // Nobody has this address on the lab's network: no route, or the connect timeout.
        'nobody ansible_host=10.99.0.250 ansible_user=root ansible_ssh_common_args="-o ConnectTimeout=3"',
      ]);
      const r = await netdiag(s, ['--inventory', inv, '--json']);
      const j = parse(r);
      t.is(r.code, 2, r.stderr);
      t.false(j.ok);
      t.deepEqual(
        j.results.map(d => d.name),
        ['guest1', 'refused', 'nobody'],
        'inventory order',
      );
      t.true(j.results[0]!.ok, JSON.stringify(j.results[0]!.rootCause));
      t.is(j.results[0]!.error, null);
      t.regex(j.results[1]!.error!, /Connection refused/);
      t.regex(j.results[2]!.error!, /No route to host|timed out|Connection timed out|unreachable/i);
      t.deepEqual(j.receiver.captures, [s.receiver.iface]);
      times.push(`1 working + 2 unreachable: ${r.wallMs} ms`);

      // --limit by group, and the text table.
      const txt = await netdiag(s, ['--inventory', inv, '--limit', 'lab:!refused']);
      t.is(txt.code, 0, txt.stderr + txt.stdout);
      t.regex(txt.stdout, /^sender\s+verdict\s+root cause\s+latency\n/);
      t.regex(txt.stdout, /^guest1\s+PASS\s+\d+ ms$/m);
      t.regex(txt.stdout, /PASS: 1 sender: 1 works, 0 broken, 0 could not be checked/);

      // A capture that cannot be opened (no such interface here): one line, exit 2, no table of
      // senders that "could not be checked".
      const nocap = await netdiag(s, ['--inventory', inv, '-i', 'nd-nosuch0']);
      t.is(nocap.code, 2, nocap.stderr + nocap.stdout);
      t.is(nocap.stderr.trim().split('\n').length, 1, nocap.stderr);
      t.regex(nocap.stderr, /nd-nosuch0/);
      t.is(nocap.stdout, '');
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await labDown(E1);
    }
  },
);

const multiGuest = async (): Promise<boolean> => (await lab(['up', '--help'], 30_000)).stdout.includes('--guests');

test.serial(
  'four guests, two kernels, mixed verdicts in one run: each the verdict it gets alone; timed beside the single runs',
  async t => {
    if (!(await multiGuest())) {
      // The multi-guest lab (several guests on one bridge) is lab.sh's; until it has it, the test
      // above covers one guest.
      t.log('lab.sh up has no --guests yet: multi-guest fleet test not run');
      t.pass();
      return;
    }
    const specs = ['kernel=6.1', 'kernel=6.17,remote-mac=wrong', 'kernel=6.1,firewall=iptables-drop', 'kernel=6.17'];
    const want: Array<string | null> = [null, 'dst-mac-mismatch', 'firewall-drop', null];
    const s = await labUp(E4, ['--guests', '4', ...specs.flatMap(g => ['--guest', g])], 400_000);
    const dir = mkdtempSync(join(tmpdir(), 'nd-fleet-e2e-'));
    try {
      const guests = s.guests.map(g => g.ssh);
      t.is(guests.length, 4);
      const inv = writeInventory(dir, [
        '[senders]',
        ...guests.map((g, i) => inventoryLine(`guest${i + 1}`, g)),
        `refused ansible_host=${s.receiver.ip} ansible_user=root`,
      ]);
      const fleet = await netdiag(s, ['--inventory', inv, '--json']);
      const j = parse(fleet);
      t.is(fleet.code, 1, fleet.stderr);
      t.deepEqual(
        j.results.map(d => d.name),
        ['guest1', 'guest2', 'guest3', 'guest4', 'refused'],
      );
      for (let i = 0; i < 4; i++) {
        const d = j.results[i]!;
        t.is(
          d.rootCause?.code ?? null,
          want[i]!,
          `${d.name} (${specs[i]}): ${JSON.stringify(d.checks.filter(c => c.status === 'fail'))}`,
        );
        t.is(d.ok, want[i] === null);
        if (d.ok)
          t.deepEqual(
            d.checks.filter(c => c.status === 'fail'),
            [],
            `${d.name}: no failing check on a healthy sender`,
          );
      }
      t.regex(j.results[4]!.error!, /Connection refused/);

      // Each alone, as a single verify: the same verdict.
      let sum = 0;
      for (let i = 0; i < 4; i++) {
        const g = guests[i]!;
        const one = await netdiag(s, [...senderArgs(g), '--json']);
        const d = JSON.parse(one.stdout) as Doc;
        t.is(d.rootCause?.code ?? null, want[i]!, `guest${i + 1} alone`);
        sum += one.wallMs;
      }
      // The refused sender is left out of the comparison: alone it is an error at once.
      const four = await netdiag(s, ['--inventory', inv, '--limit', 'senders:!refused', '--json']);
      times.push(`4 guests in one run ${four.wallMs} ms; alone, one after another ${sum} ms`);
      // How the time compares (the 0.5x) is make bench's to measure, not a test's to assert.
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await labDown(E4);
    }
  },
);
