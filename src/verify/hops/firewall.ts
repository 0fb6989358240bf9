/**
 * The firewall hop: the deciding rule for the sender's source (its counter's rise during the test
 * as evidence), and the ICMP prohibited answers the capture saw when the rules read cannot show
 * the REJECT. Pure.
 */
import { acceptFix } from '../../checks/firewall/fix.js';
import type { FirewallVerdict } from '../../checks/firewall/model.js';
import { rejectAnswer } from '../../checks/firewall/reject.js';
import { finding } from '../../findings/catalog.js';
import { receiverHop, step, type Hop, type Seen } from './evidence.js';

/** The same rule, before and after the test (its text without the counters nft prints in it). */
function sameRule(a: FirewallVerdict, b: FirewallVerdict): boolean {
  const bare = (v: FirewallVerdict) => (v.rule ?? '').replace(/\s*counter packets \d+ bytes \d+/, ' counter');
  return a.tool === b.tool && a.where === b.where && a.verdict === b.verdict && bare(a) === bare(b);
}

/** The ICMP answers that are a REJECT's own (prohibited codes), not "nothing listens". */
const rejectAnswers = (s: Seen) => s.icmp.filter(f => f.code !== 'port-unreachable');

/**
 * The firewall: a DROP is `firewall-drop`; a REJECT is `firewall-reject`, as the wire analysis
 * names it, with the ICMP answer the rule sends (and the answers the capture saw).
 */
export const firewallHop: Hop = (e, s) =>
  receiverHop(e, s, 'receiver.firewall', 'verify.firewall', 'firewall', () => {
    const before = e.receiverBefore.firewall;
    const fw = e.receiverAfter.firewall;
    const family = e.senderIp.includes(':') ? 6 : 4;
    // The source this host's rules meet: the translated one when a router on the way rewrites it.
    const src = e.arrivedFrom?.ip ?? e.senderIp;
    const nat = e.arrivedFrom
      ? [
          `the datagrams arrive from ${e.arrivedFrom.ip} (a router on the way translates the source), not from the sender's ${e.senderIp}: a rule for ${e.senderIp} never matches them`,
        ]
      : [];
    if (fw && (fw.verdict === 'dropped' || fw.verdict === 'rejected')) {
      // The counter's rise is evidence only when the rule deciding before is the same one.
      const same = before && sameRule(before, fw);
      const rose = same && fw.counters && before.counters ? fw.counters.packets - before.counters.packets : undefined;
      const answer = rejectAnswer(fw, family);
      const seenAnswers = answer
        ? s.icmp.flatMap(f => f.evidence.slice(0, 2).map(x => `the REJECT's answer: ${x}`))
        : [];
      const counter = rose !== undefined ? ` (counter +${rose} during the test)` : '';
      const rule = fw.rule ?? `the ${fw.where ?? ''} policy`;
      return step(
        'verify.firewall',
        'firewall',
        'fail',
        `${fw.tool}: ${fw.verdict} by ${fw.rule ?? 'policy'}${answer ? `, answering ${answer.text}` : ''}${rose !== undefined ? `, its counter rose by ${rose}` : ''}`,
        [
          finding(answer ? 'firewall-reject' : 'firewall-drop', {
            subject: e.senderIp,
            summary: answer
              ? `${fw.tool} rejects the datagrams${e.arrivedFrom ? ` from ${src}` : ''} with ${answer.text}: ${rule}${counter}`
              : `${fw.tool} drops the datagrams${e.arrivedFrom ? ` from ${src}` : ''}: ${rule}${counter}`,
            evidence: [
              `${fw.where ?? fw.tool}${fw.line ? ` line ${fw.line}` : ''}: ${fw.rule ?? 'policy'}`,
              ...(rose !== undefined ? [`counter ${before!.counters!.packets} → ${fw.counters!.packets} packets`] : []),
              ...seenAnswers,
              ...nat,
            ],
            hint: acceptFix(fw, { srcIp: src, dstPort: e.port, family }),
          }),
        ],
      );
    }
    const rejects = rejectAnswers(s);
    if (rejects.length) {
      // The pipeline's own finding names the ICMP answers (host/admin prohibited ...): keep it.
      const wireSaid = rejects.find(f => f.code === 'firewall-reject');
      return step('verify.firewall', 'firewall', 'fail', 'a rule rejects the datagrams (ICMP prohibited answers)', [
        finding('firewall-reject', {
          subject: e.senderIp,
          summary: `this host answers the datagrams with ICMP prohibited: a firewall REJECT rule${fw ? ' that the rules read could not show' : ''}${wireSaid ? ` (${wireSaid.summary})` : ''}`,
          evidence: rejects.flatMap(f => f.evidence),
          ...(wireSaid?.hint ? { hint: wireSaid.hint } : {}),
        }),
      ]);
    }
    return undefined;
  });
