/** The unit of every fact: one file's contents or one command's output, with where it came from. */
export interface FactText {
  text: string;
  /** Where it came from: a path (`/etc/rsyslog.conf`) or a command line (`iptables-save -c`). */
  from: string;
}

/** One configfs netconsole target directory. */
export interface ConfigfsTargetFacts {
  /** The directory name under /sys/kernel/config/netconsole/. */
  name: string;
  /** Attribute name → its contents, trimmed (`enabled` → `1`). */
  attrs: Record<string, string>;
  /** The directory's path, for evidence. */
  from: string;
}
