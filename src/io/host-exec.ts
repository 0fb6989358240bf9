/**
 * How netdiag reaches a host to read its facts: a HostExec runs a fixed argv (no shell) and reads
 * files. Adapters: this host (local-exec.ts), ssh (ssh-exec.ts), a directory of files a user handed
 * in (dir-exec.ts, which maps each command to a file through COMMAND_FILES).
 */
import { ipFamily } from '../config/netconsole-spec.js';

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** Exit code; 127 when the program does not exist, 124 on timeout (as coreutils' timeout). */
  code: number;
}

/** How the checks reach a host. */
export interface HostExec {
  /** Runs a program with these arguments (no shell). Never rejects for a failing command. */
  run(argv: string[]): Promise<ExecResult>;
  /** A file's contents, or null when it does not exist or cannot be read. */
  readFile(path: string): Promise<string | null>;
  /** Names in a directory, or null. Optional: without it, `ls -1A -- DIR` is run. */
  listDir?(path: string): Promise<string[] | null>;
}

/** The command outputs the collectors use, and the file name each has in a facts directory. */
export const COMMAND_FILES: Array<{ argv: string[]; file: string; what: string }> = [
  { argv: ['dmesg'], file: 'dmesg.txt', what: 'kernel log' },
  { argv: ['journalctl', '-k', '-b', '--no-pager', '-q'], file: 'journalctl-k.txt', what: 'kernel log (journal)' },
  { argv: ['ip', '-d', '-j', 'link', 'show'], file: 'ip-link.json', what: 'interfaces (json)' },
  { argv: ['ip', '-d', 'link', 'show'], file: 'ip-link.txt', what: 'interfaces' },
  { argv: ['ip', '-j', 'addr', 'show'], file: 'ip-addr.json', what: 'addresses (json)' },
  { argv: ['ip', 'addr', 'show'], file: 'ip-addr.txt', what: 'addresses' },
  { argv: ['ip', 'route', 'get', '<IP>'], file: 'ip-route-get.txt', what: 'route to the other host' },
  { argv: ['ip', 'neigh', 'show'], file: 'ip-neigh.txt', what: 'neighbour (ARP/NDP) table' },
  { argv: ['lsmod'], file: 'lsmod.txt', what: 'loaded modules' },
  { argv: ['uname', '-r'], file: 'uname-r.txt', what: 'kernel release' },
  { argv: ['ss', '-ulnp'], file: 'ss-ulnp.txt', what: 'listening UDP sockets' },
  { argv: ['iptables-save', '-c'], file: 'iptables-save.txt', what: 'IPv4 firewall' },
  { argv: ['ip6tables-save', '-c'], file: 'ip6tables-save.txt', what: 'IPv6 firewall' },
  { argv: ['nft', '-j', 'list', 'ruleset'], file: 'nft.json', what: 'nftables ruleset' },
  { argv: ['semanage', 'port', '-l'], file: 'semanage-port.txt', what: 'SELinux port labels' },
  { argv: ['ps', '-e', '-o', 'netns=,comm='], file: 'ps.txt', what: 'processes (network namespace, name)' },
  { argv: ['readlink', '/proc/self/ns/net'], file: 'netns.txt', what: 'this network namespace' },
  {
    argv: ['systemctl', 'is-active', '<UNIT>...'],
    file: 'systemctl-is-active.txt',
    what: 'syslog services (one state a line, in the order asked)',
  },
  { argv: ['getent', 'ahostsv4', '<HOST>'], file: 'getent-ahostsv4.txt', what: 'a host name in SYSLOGADDR, resolved' },
];

/** What a placeholder in COMMAND_FILES stands for. `<UNIT>...` takes the rest of the arguments. */
const PLACEHOLDERS: Record<string, (arg: string) => boolean> = {
  '<IP>': a => ipFamily(a) !== 0,
  '<HOST>': a => /^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$/.test(a),
  '<UNIT>...': a => /^[\w@.:-]+$/.test(a),
};

/** The facts-directory file name for a command, or undefined for a command not in the table. */
export function commandFileName(argv: readonly string[]): string | undefined {
  for (const c of COMMAND_FILES) {
    const rest = c.argv[c.argv.length - 1] === '<UNIT>...';
    if (rest ? argv.length < c.argv.length : c.argv.length !== argv.length) continue;
    const matches = (a: string, i: number) => {
      const p = PLACEHOLDERS[a];
      return p ? p(argv[i]!) : a === argv[i];
    };
    const fixed = rest ? c.argv.slice(0, -1) : c.argv;
    if (fixed.every(matches) && (!rest || argv.slice(fixed.length).every(a => PLACEHOLDERS['<UNIT>...']!(a))))
      return c.file;
  }
  return undefined;
}
