/**
 * The checks' entry points, for verify and `netdiag check`: judge collected facts and return a
 * checklist with findings. Pure.
 */
export { runSenderChecks, type SenderReport } from './sender/run.js';
export { runReceiverChecks, type ReceiverContext, type ReceiverReport } from './receiver/run.js';
export type { ReceiverFacts, FactText } from './host/facts.js';
