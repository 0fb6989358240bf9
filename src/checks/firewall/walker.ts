/**
 * The one chain walker both firewall evaluators use (iptables and nft): follow a datagram through a
 * chain's rules, into the chains they jump or go to, back on return, up to a verdict. A rule whose
 * match is unknown forks the walk: taken and not taken; when both give the same decision it
 * stands, otherwise the walk is uncertain and names that rule. Depth (loops) and the number of
 * forks are bounded, so a hostile or looping ruleset ends as "uncertain", never as a hang. Pure.
 */
import type { Tri } from './model.js';

/** What a rule does to a datagram it matches. */
export type RuleStep<C, R> =
  | { kind: 'accept' | 'drop' | 'reject'; rule: R }
  /** Back to the calling chain (iptables RETURN, nft return). */
  | { kind: 'return' }
  /** Nothing decided: on with the next rule (nft continue). */
  | { kind: 'next' }
  /** Into another chain; `chain` undefined when it does not exist. goto: its end returns to our caller. */
  | { kind: 'call'; chain: C | undefined; name: string; goto: boolean; rule: R }
  | { kind: 'uncertain'; rule: R; reason: string };

/** A walk's end; a rule's decision carries `via`, the chains from the base chain down to the rule's. */
export type WalkOutcome<R> =
  | { kind: 'accept' | 'drop' | 'reject'; rule: R; via: string[] }
  | { kind: 'return' }
  | { kind: 'uncertain'; rule: R; reason: string; via: string[] };

/** What the walker needs to know of one tool's rules. */
export interface ChainModel<C, R> {
  rules(chain: C): readonly R[];
  /** The chain's name in the path (`filter INPUT`, `inet filter input`). */
  label(chain: C): string;
  /** A rule to quote when a chain with no rules is where the walk gave up. */
  placeholder(chain: C): R;
  /** The rule's match against the datagram, and its step when it matches (none: counter, log, ...). */
  evaluate(rule: R): { match: Tri; step?: RuleStep<C, R> };
}

/** Chains nested deeper than this are a loop (the kernel's own limit is lower). */
const MAX_DEPTH = 32;
/** At most this many undecided rules are forked on per base chain. */
const MAX_FORKS = 64;

/**
 * Walks one base (or built-in) chain from its first rule. `path`: every chain entered, in order;
 * an outcome's `via`: only those the deciding rule was reached through (the calls still open).
 */
export function walkChain<C, R>(model: ChainModel<C, R>, chain: C): { outcome: WalkOutcome<R>; path: string[] } {
  const path: string[] = [];
  const stack = [model.label(chain)];
  let forks = 0;

  const from = (ch: C, start: number, depth: number): WalkOutcome<R> => {
    if (start === 0) path.push(model.label(ch));
    const rules = model.rules(ch);
    if (depth > MAX_DEPTH)
      return {
        kind: 'uncertain',
        rule: rules[0] ?? model.placeholder(ch),
        reason: `chains nest deeper than ${MAX_DEPTH} (a loop?)`,
        via: [...stack],
      };
    for (let i = start; i < rules.length; i++) {
      const rule = rules[i]!;
      const { match, step } = model.evaluate(rule);
      if (match === false || !step || step.kind === 'next') continue;
      if (match === true) {
        const o = take(step, depth);
        if (o === 'next') continue;
        return o;
      }
      // Unknown: follow both ways; the same decision either way stands.
      if (++forks > MAX_FORKS)
        return { kind: 'uncertain', rule, reason: `${match.unknown} (too many undecided rules)`, via: [...stack] };
      const t = take(step, depth);
      const a = t === 'next' ? from(ch, i + 1, depth) : t;
      const b = from(ch, i + 1, depth);
      if (a.kind !== 'uncertain' && b.kind === a.kind) return b;
      if (a.kind === 'uncertain') return a;
      return { kind: 'uncertain', rule, reason: match.unknown, via: [...stack] };
    }
    return { kind: 'return' };
  };

  const take = (step: RuleStep<C, R>, depth: number): WalkOutcome<R> | 'next' => {
    switch (step.kind) {
      case 'accept':
      case 'drop':
      case 'reject':
      case 'uncertain':
        return { ...step, via: [...stack] };
      case 'return':
        return step;
      case 'next':
        return 'next';
      case 'call': {
        if (step.chain === undefined)
          return {
            kind: 'uncertain',
            rule: step.rule,
            reason: `chain ${step.name} not in the ruleset`,
            via: [...stack],
          };
        stack.push(model.label(step.chain));
        const sub = from(step.chain, 0, depth + 1);
        stack.pop();
        if (sub.kind === 'return') return step.goto ? { kind: 'return' } : 'next';
        return sub;
      }
    }
  };

  const outcome = from(chain, 0, 0);
  return { outcome, path };
}
