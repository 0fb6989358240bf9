/**
 * Runs a command on the terminal it was given (`script`'s pty) and writes how it ended to a
 * status file, since `script -e` reports an exit of 130 and a death by SIGINT alike. It ignores
 * SIGINT and SIGTERM itself: a Ctrl-C typed on the pty reaches the whole foreground process
 * group, and the test means it for the command.
 *
 * node pty-wrap.js STATUS-FILE [--stdout FILE] -- COMMAND ARGS...
 * The status file gets `pid N` once started, then `exit CODE SIGNAL`.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, openSync } from 'node:fs';

const args = process.argv.slice(2);
const statusFile = args.shift()!;
let stdout: number | 'inherit' = 'inherit';
if (args[0] === '--stdout') {
  args.shift();
  stdout = openSync(args.shift()!, 'w');
}
if (args.shift() !== '--') throw new Error('usage: pty-wrap STATUS [--stdout FILE] -- COMMAND...');
process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});
const child = spawn(args[0]!, args.slice(1), { stdio: ['inherit', stdout, 'inherit'] });
appendFileSync(statusFile, `pid ${child.pid}\n`);
child.on('exit', (code, signal) => {
  appendFileSync(statusFile, `exit ${code ?? '-'} ${signal ?? '-'}\n`);
  process.exit(0);
});
