/**
 * The checks' entry points, for verify and `netdiag check`: judge collected facts and return a
 * checklist with findings. Pure.
 */
export { runSenderChecks, type SenderContext, type SenderReport } from './sender/run.js';
export { runReceiverChecks, type ReceiverContext, type ReceiverReport } from './receiver/run.js';
export type { CheckResult, CheckStatus } from './check.js';
export type { SenderFacts, ReceiverFacts, FactText, ConfigfsTargetFacts } from './host/facts.js';
export type { FirewallVerdict, Datagram } from './firewall/model.js';
