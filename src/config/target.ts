/**
 * One netconsole target as configured: where the sender is told to send. Produced by the
 * parsers of the kernel parameter, /etc/sysconfig/netconsole, configfs and the kernel log, and
 * compared with what is on the wire. Fields hold the effective value (the kernel's or the init
 * script's default when the source left it out); `explicit` lists the fields the source gave.
 */
export interface NetconsoleTarget {
  /** Where this came from, for evidence: `--netconsole`, `/etc/sysconfig/netconsole`, `configfs:target1`, `dmesg`. */
  source: string;
  /** Line number in the source file, when it has lines. */
  line?: number;
  /** `+` in the parameter, or configfs `extended`: extended (structured) messages. */
  extended: boolean;
  /** `r` in the parameter, or configfs `release`: the kernel release is prepended. */
  release: boolean;
  localPort: number;
  /** Undefined: the device's first address. */
  localIp?: string;
  /** Undefined: the kernel's default, eth0. */
  dev?: string;
  remotePort: number;
  /** An IP address, or a host name as SYSLOGADDR allows (resolved by the init script). */
  remoteIp: string;
  /** The host name SYSLOGADDR gave, when remoteIp was resolved from it. */
  remoteHost?: string;
  /** Lowercase, colon-separated. Undefined: broadcast (kernel default) or resolved at load time (init script). */
  remoteMac?: string;
  /** Which of the fields above the source gave explicitly. */
  explicit: Array<'extended' | 'release' | 'localPort' | 'localIp' | 'dev' | 'remotePort' | 'remoteIp' | 'remoteMac'>;
}

/** Kernel defaults (drivers/net/netconsole.c). */
export const KERNEL_DEFAULT_LOCAL_PORT = 6665;
export const KERNEL_DEFAULT_REMOTE_PORT = 6666;

/** The ports netdiag watches unless told otherwise: syslog's, and netconsole's default target port. */
export const DEFAULT_PORTS: readonly number[] = [514, KERNEL_DEFAULT_REMOTE_PORT];

/**
 * The UDP ports netconsole is looked for on: `ports` when given (--port restricts to them), else
 * the defaults and every configured target's remote port. The pipeline and sniff's capture filter
 * both use this, so a configured port is never filtered out before it is judged.
 */
export function watchedPorts(
  ports: readonly number[] | undefined,
  targets: readonly NetconsoleTarget[] = [],
): number[] {
  if (ports?.length) return [...new Set(ports)];
  return [...new Set([...DEFAULT_PORTS, ...targets.map(t => t.remotePort)])];
}
