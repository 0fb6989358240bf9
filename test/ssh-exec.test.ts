/**
 * ssh-exec with the real OpenSSH client, to loopback only: ssh's own warnings reach the caller
 * (each once), a connection error is lastError, and a closed connection starts no ssh.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sshError, sshExec, sshOwnLines } from '../src/io/ssh-exec.js';
import { haveCommand, requiring } from './helpers/prereq.js';
import test from 'ava';

const withSsh = requiring([[haveCommand('ssh'), 'ssh (openssh-client)']]);

test("ssh's own lines: all of a failure, only its warnings otherwise", t => {
  const stderr =
    'Warning: Identity file /x not accessible: No such file or directory.\r\n' +
    'cat: /etc/nothing: No such file or directory\n' +
    '** WARNING: connection is not using a post-quantum key exchange algorithm.\n';
  t.deepEqual(sshOwnLines(stderr, 1), [
    'Warning: Identity file /x not accessible: No such file or directory.',
    '** WARNING: connection is not using a post-quantum key exchange algorithm.',
  ]);
  t.deepEqual(sshOwnLines('Warning: a\nssh: connect to host h port 22: Connection refused\n', 255), [
    'Warning: a',
    'ssh: connect to host h port 22: Connection refused',
  ]);
});

test("through a jump host, ssh's error is the jump's own line, not the proxy pipe's close", t => {
  // As OpenSSH 9.2 printed them (the lab's --jump; a jump host whose key is not known; one refusing).
  const own = sshOwnLines(
    'Host key verification failed.\r\nkex_exchange_identification: Connection closed by remote host\r\nConnection closed by UNKNOWN port 65535\r\n',
    255,
  );
  t.is(
    sshError(own),
    'through the jump host (ProxyJump/ProxyCommand): Host key verification failed. (then: Connection closed by UNKNOWN port 65535)',
  );
  t.deepEqual(own, ['kex_exchange_identification: Connection closed by remote host']);
  t.is(
    sshError([
      'ssh: connect to host 10.99.1.254 port 22: Connection refused',
      'kex_exchange_identification: Connection closed by remote host',
      'Connection closed by UNKNOWN port 65535',
    ]),
    'through the jump host (ProxyJump/ProxyCommand): ssh: connect to host 10.99.1.254 port 22: Connection refused (then: Connection closed by UNKNOWN port 65535)',
  );
  t.is(
    sshError(['Connection timed out during banner exchange', 'Connection to UNKNOWN port 65535 timed out']),
    'through the jump host (ProxyJump/ProxyCommand): Connection timed out during banner exchange (then: Connection to UNKNOWN port 65535 timed out)',
  );
  // Without a proxy: the last line, as before.
  t.is(
    sshError(['Warning: a', 'ssh: connect to host h port 22: Connection refused']),
    'ssh: connect to host h port 22: Connection refused',
  );
});

withSsh.serial('a jump host that refuses: lastError says the connection went through the jump host', async t => {
  const ssh = sshExec({
    destination: 'root@127.0.0.1',
    port: 1,
    connectTimeoutSec: 3,
    options: ['ProxyJump=root@127.0.0.2:1'],
    onWarning: () => {},
  });
  const r = await ssh.run(['true']);
  await ssh.close();
  t.is(r.code, 255);
  // The jump's own line reaches the caller when ssh keeps its stderr (verify's facts session, the
  // control master without ControlPersist); a persisting master's proxy prints to nowhere.
  t.regex(ssh.lastError ?? '', /jump host \(ProxyJump\/ProxyCommand\)/);
});

withSsh.serial(
  'an identity file not accessible is shown once; the connection error is lastError; closed: no more ssh',
  async t => {
    const tmp = mkdtempSync(path.join(tmpdir(), 'netdiag-sshx-'));
    t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
    const warnings: string[] = [];
    const missing = path.join(tmp, 'no-such-key');
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    const ssh = sshExec({
      destination: 'root@127.0.0.1',
      port: 1,
      identity: missing,
      connectTimeoutSec: 3,
      onWarning: l => warnings.push(l),
    });
    for (let i = 0; i < 2; i++) {
      const r = await ssh.run(['true']);
      t.is(r.code, 255);
    }
    t.regex(ssh.lastError ?? '', /^ssh: connect to host 127\.0\.0\.1 port 1: Connection refused$/);
    t.deepEqual(warnings, [`Warning: Identity file ${missing} not accessible: No such file or directory.`]);
    await ssh.close();
    const after = await ssh.run(['true']);
    t.deepEqual(after, { stdout: '', stderr: 'ssh: connection closed', code: 255 });
    // Without onWarning the warnings are kept for the caller.
    const quiet = sshExec({ destination: 'root@127.0.0.1', port: 1, identity: missing, connectTimeoutSec: 3 });
    await quiet.run(['true']);
    await quiet.close();
    t.deepEqual(quiet.warnings, warnings);
  },
);
