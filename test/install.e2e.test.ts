/**
 * The package as a user gets it: `npm pack`, then `npm install -g` of the tarball into an empty
 * prefix, and `make install` with DESTDIR. The installed
 * command runs under its own name and under a symlink, analyzes a real capture, says how to get
 * libpcap for sniff; the man page renders without a warning; bash completes commands and codes.
 */
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cliPath, projectRoot } from './helpers/cli.js';
import { haveCommand, requiring } from './helpers/prereq.js';

const withTools = requiring([
  [haveCommand('npm'), 'npm'],
  [haveCommand('groff'), 'groff (Debian package groff)'],
  [haveCommand('man'), 'man (Debian package man-db)'],
  [haveCommand('tar'), 'tar'],
]);
const capture = path.join(projectRoot, 'fixtures/real/linux-6.1.0-56-amd64-plain-sysrq-p.pcap');
const work = mkdtempSync(path.join(tmpdir(), 'netdiag-install-'));
test.after.always(() => rmSync(work, { recursive: true, force: true }));
const quiet = { npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...quiet, ...env }, timeout: 240_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let tarball = '';
test.before(() => {
  if (!haveCommand('npm')) return;
  // dist/ is built by make; --ignore-scripts packs it as it is.
  const name = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', work], {
    cwd: projectRoot,
    encoding: 'utf8',
    env: { ...process.env, ...quiet },
  }).trim();
  tarball = path.join(work, name.split('\n').pop()!);
});

withTools.serial('the tarball holds only what runs: dist/bundle, man page, completion, docs, README, LICENSE', t => {
  const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n');
  const outside = files.filter(
    f =>
      !/^package\/(dist\/bundle\/[\w-]+\.(js|cjs|cache)|dist\/man\/netdiag\.1|dist\/completion\/netdiag\.bash|docs\/.*\.md|README\.md|LICENSE|package\.json)$/.test(
        f,
      ),
  );
  t.deepEqual(outside, []);
  t.true(files.includes('package/dist/bundle/netdiag.cjs'));
  t.true(files.includes('package/dist/man/netdiag.1'));
  t.false(files.some(f => /\/(test|fixtures|lab|bench)\//.test(f)));
});

withTools.serial(
  'npm install -g into an empty prefix: netdiag runs, under a symlink too; analyze works without libpcap',
  t => {
    const prefix = path.join(work, 'prefix');
    const r = run('npm', ['install', '--global', '--prefix', prefix, '--prefer-offline', tarball]);
    t.is(r.code, 0, r.stderr);
    const bin = path.join(prefix, 'bin/netdiag');
    t.true((statSync(bin).mode & 0o111) !== 0, 'executable');
    const version = run(bin, ['--version']);
    t.regex(version.stdout, /^netdiag \d+\.\d+\.\d+\n$/);

    const link = path.join(work, 'ndiag');
    symlinkSync(bin, link);
    t.is(run(link, ['--version']).stdout, version.stdout, 'the same program under another name');

    const analyzed = run(bin, ['analyze', '-q', capture], { NO_COLOR: '1' });
    t.is(analyzed.code, 0, analyzed.stderr);
    t.regex(analyzed.stdout, /netconsole/);

    // Without either optional way to libpcap (cap's addon, or koffi to open libpcap itself), sniff
    // says what to install. With one of them left, sniff captures (sniff.e2e covers that).
    for (const name of ['cap', 'koffi'])
      rmSync(path.join(prefix, 'lib/node_modules/netdiag/node_modules', name), { recursive: true, force: true });
    const sniff = run(bin, ['sniff', 'lo', '-c', '1']);
    t.is(sniff.code, 2);
    t.regex(sniff.stderr, /^netdiag: cannot capture: .*(cap|libpcap).*\n$/);

    // npm links the man page under the prefix.
    const man = path.join(prefix, 'share/man/man1/netdiag.1');
    t.true(existsSync(man), `man page at ${man}`);
  },
);

withTools.serial('the man page renders without a warning, with the sections a man page has', t => {
  const page = path.join(projectRoot, 'dist/man/netdiag.1');
  const groff = run('groff', ['-ww', '-man', '-Tutf8', '-z', page]);
  t.is(groff.code, 0);
  t.is(groff.stderr, '', 'no groff warning');
  const man = run('man', ['-l', page], { MANWIDTH: '100', MAN_KEEP_FORMATTING: '' });
  t.is(man.code, 0, man.stderr);
  for (const section of [
    'NAME',
    'SYNOPSIS',
    'COMMANDS',
    'EXIT STATUS',
    'ENVIRONMENT',
    'FILES',
    'EXAMPLES',
    'SEE ALSO',
  ]) {
    t.regex(man.stdout, new RegExp(`^${section}$`, 'm'), section);
  }
  // The options come from the same definitions as --help.
  const help = run(process.execPath, [cliPath, 'sniff', '--help']);
  t.regex(help.stdout, /-B, --buffer MiB/);
  t.regex(man.stdout, /-B, --buffer MiB/);
  t.regex(man.stdout, /tcpdump\(8\)/);
});

withTools.serial('bash completion: commands, options, option values and finding codes', t => {
  const file = path.join(projectRoot, 'dist/completion/netdiag.bash');
  const complete = (...words: string[]) =>
    run('bash', [
      '-c',
      `source "$0"; COMP_WORDS=(${words.map(w => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _netdiag; echo "\${COMPREPLY[*]}"`,
      file,
    ]).stdout.trim();
  t.is(complete('netdiag', 'ana'), 'analyze');
  t.is(complete('netdiag', 'sniff', '--dur'), '--duration');
  t.is(complete('netdiag', 'explain', 'dst-mac'), 'dst-mac-mismatch');
  t.is(complete('netdiag', 'verify', '-i', 'l'), 'lo');
});

withTools.serial('make install PREFIX DESTDIR: the command, the man page and the completion land under DESTDIR', t => {
  const destdir = path.join(work, 'destdir');
  const r = run('make', ['-s', '-C', projectRoot, 'install', 'PREFIX=/usr', `DESTDIR=${destdir}`]);
  t.is(r.code, 0, r.stderr);
  for (const f of [
    'usr/bin/netdiag',
    'usr/share/man/man1/netdiag.1',
    'usr/share/bash-completion/completions/netdiag',
  ]) {
    t.true(existsSync(path.join(destdir, f)), f);
  }
  t.true(readdirSync(path.join(destdir, 'usr/lib/node_modules/netdiag/dist/bundle')).includes('netdiag.cjs'));
  const version = run(path.join(destdir, 'usr/bin/netdiag'), ['--version']);
  t.regex(version.stdout, /^netdiag /);
});
