/**
 * The sender checks, in the order they are listed: is netconsole loaded, where is it configured
 * and do those places agree with what the kernel uses, is its device usable, does the route and
 * the remote MAC fit, does the console log level let messages out, is SysRq enabled. A new check
 * is one function `(facts, view) => CheckResult` added to SENDER_CHECKS. Pure.
 */
import type { NetconsoleTarget } from '../../config/target.js';
import type { Finding } from '../../findings/finding.js';
import type { SenderFacts } from '../host/facts.js';
import type { RouteGet } from '../host/netinfo.js';
import { type Check, type CheckResult, runChecks } from '../check.js';
import type { KernelLogNetconsole } from './kernel-log.js';
import { deriveSender, type LiveTarget, type SenderContext, type SenderView } from './view.js';
import { configCheck, configfsCheck, conflictCheck, kernelLogCheck, loadedCheck } from './checks/netconsole.js';
import { deviceCheck, remoteMacCheck, routeCheck } from './checks/path.js';
import { loglevelCheck, sysrqCheck } from './checks/kernel.js';

export type { SenderContext } from './view.js';

export const SENDER_CHECKS: ReadonlyArray<Check<SenderFacts, SenderView>> = [
  loadedCheck,
  configCheck,
  kernelLogCheck,
  configfsCheck,
  conflictCheck,
  deviceCheck,
  routeCheck,
  remoteMacCheck,
  loglevelCheck,
  sysrqCheck,
];

export interface SenderReport {
  checks: CheckResult[];
  findings: Finding[];
  /** Targets from the configuration files (sysconfig, modprobe.d, kernel command line). */
  configured: NetconsoleTarget[];
  /** Targets in configfs. */
  configfs: LiveTarget[];
  /** Targets the kernel logged at the last successful start (this boot). */
  running: NetconsoleTarget[];
  /** The target the checks judged. */
  target?: NetconsoleTarget;
  loaded?: boolean;
  kernelLog?: KernelLogNetconsole;
  /** The route to the receiver, as `ip route get` gave it (verify: whether a router is on the way). */
  route?: RouteGet;
}

export function runSenderChecks(facts: SenderFacts, ctx: SenderContext = {}): SenderReport {
  const v = deriveSender(facts, ctx);
  const checks = runChecks(SENDER_CHECKS, facts, v);
  const report: SenderReport = {
    checks,
    findings: checks.flatMap(c => c.findings),
    configured: v.configured,
    configfs: v.live,
    running: v.running,
  };
  if (v.target) report.target = v.target;
  if (v.loaded !== undefined) report.loaded = v.loaded;
  if (v.klog) report.kernelLog = v.klog;
  if (v.route) report.route = v.route;
  return report;
}
