/**
 * The checks' entry points, for verify and `netdiag check`: judge collected facts and return a
 * checklist with findings. Pure.
 */
export { runSenderChecks, type SenderContext, type SenderReport } from './sender.js';
export { runReceiverChecks, type ReceiverContext, type ReceiverReport } from './receiver.js';
export { type CheckResult, type CheckStatus, renderChecklist, escapeText } from './checklist.js';
export type { SenderFacts, ReceiverFacts, FactText, ConfigfsTargetFacts } from './facts.js';
export type { FirewallVerdict, Datagram } from './firewall.js';
