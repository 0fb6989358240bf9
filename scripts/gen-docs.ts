/**
 * Writes what the package installs beside the program, from the command definitions:
 * dist/man/netdiag.1 and dist/completion/netdiag.bash. Run by the build (npm run build, make).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { allCommands, version } from '../src/cli.js';
import { bashCompletion } from '../src/commands/completion.js';
import { manPage } from '../src/commands/man.js';
import { ALL_CODES } from '../src/findings/codes.js';

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const commands = await allCommands();
mkdirSync(path.join(dist, 'man'), { recursive: true });
writeFileSync(path.join(dist, 'man/netdiag.1'), manPage(commands, version()));
mkdirSync(path.join(dist, 'completion'), { recursive: true });
writeFileSync(
  path.join(dist, 'completion/netdiag.bash'),
  bashCompletion(
    commands,
    ALL_CODES.map(c => c.code),
  ),
);
