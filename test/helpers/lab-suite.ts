/**
 * The set-up the two QEMU lab suites (lab.e2e and lab-switches.e2e) share: the prerequisites
 * (the lab's own and the tools the tests read the wire with), the capture files kept only when a
 * test fails, the run's name tag, and the record of its boots.
 */
import ava, { type TestFn } from 'ava';
import { discardCaptures, keepCaptures, labNames, labRequirements, type BootRecord } from '../lab-driver.js';
import { haveCommand, requiring } from './prereq.js';

interface LabSuite {
  /** `test`, or its skipping/failing stand-in when a prerequisite is missing (see `requiring`). */
  test: TestFn;
  /** This run's tag, in every namespace, tap and process name it makes. */
  tag: string;
  /** A lab name made from the tag and `what` (at most 11 characters). */
  n: (what: string) => string;
  /** Each boot's timings, filled by `withLab`, logged by the suite's last test. */
  boots: BootRecord[];
  suiteStart: number;
}

/**
 * Declares a lab suite in the calling test file: its prerequisites (the lab's, tcpdump, socat,
 * iptables, nft, then `extra`) and the hooks that keep a failed test's captures. `letter` starts
 * the run's tag, so two suites running at once do not share names.
 */
export function labSuite(letter: string, ...extra: Array<[boolean, string]>): LabSuite {
  // Captures are evidence: kept (and named in the message) when a test fails, deleted when it passes.
  ava.afterEach(() => discardCaptures());
  ava.afterEach.always(() => keepCaptures());
  const test = requiring(
    labRequirements(
      [haveCommand('tcpdump'), 'tcpdump'],
      [haveCommand('socat'), 'socat'],
      [haveCommand('iptables'), 'iptables'],
      [haveCommand('nft'), 'nft (nftables)'],
      ...extra,
    ),
  );
  return { test, ...labNames(letter), boots: [], suiteStart: Date.now() };
}
