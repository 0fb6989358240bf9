/**
 * The lab's two hosts as `HostExec`s, for running the sender and receiver checks in-process on
 * facts collected from the real lab: the guest over the lab's ssh, the log server through
 * `ip netns exec` in its namespace.
 */
import { remoteCommand, shellQuote } from '../../src/io/ssh-exec.js';
import { localExec } from '../../src/io/local-exec.js';
import type { HostExec } from '../../src/io/host-exec.js';
import type { LabState } from '../lab-driver.js';

const local = localExec({ timeoutMs: 20_000 });

/** Guest `index` over the lab's ssh (its ssh_config alias): each argv element quoted, files read with cat. */
export function guestExec(s: LabState, index = 1): HostExec {
  const alias = index === 1 ? 'guest' : `guest${index}`;
  const ssh = (cmd: string) =>
    local.run([
      'ip',
      'netns',
      'exec',
      s.namespaces.logServer,
      'ssh',
      '-F',
      s.ssh.configFile,
      '-o',
      'ConnectTimeout=5',
      alias,
      cmd,
    ]);
  return {
    // ssh's 255 is its own failure; a missing remote program is the shell's 127.
    run: argv => ssh(remoteCommand(argv)),
    readFile: async path => {
      const r = await ssh(`cat -- ${shellQuote(path)}`);
      return r.code === 0 ? r.stdout : null;
    },
    listDir: async path => {
      const r = await ssh(`ls -1A -- ${shellQuote(path)}`);
      return r.code === 0 ? r.stdout.split('\n').filter(Boolean) : null;
    },
  };
}

/**
 * The log-server namespace. /proc and commands are the namespace's own; /etc is the host's, so the
 * lab's rsyslog configuration is shown at /etc/rsyslog.conf and the host's other syslog files are hidden.
 */
export function logServerExec(s: LabState): HostExec {
  const ns = ['ip', 'netns', 'exec', s.namespaces.logServer];
  return {
    run: argv => local.run([...ns, ...argv]),
    readFile: async path => {
      if (path === '/etc/rsyslog.conf')
        return s.rsyslog.state === 'off'
          ? null
          : local.readFile((s.rsyslog as unknown as { configFile: string }).configFile);
      if (path.startsWith('/etc/')) return null;
      const r = await local.run([...ns, 'cat', '--', path]);
      return r.code === 0 ? r.stdout : null;
    },
    listDir: async path => {
      if (path.startsWith('/etc/')) return null;
      const r = await local.run([...ns, 'ls', '-1A', '--', path]);
      return r.code === 0 ? r.stdout.split('\n').filter(Boolean) : null;
    },
  };
}
