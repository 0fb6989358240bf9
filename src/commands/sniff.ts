import { defineCommand } from './command.js';
import { CLIError } from '../errors.js';

// Not written yet: says so instead of pretending.
export default defineCommand({
  name: 'sniff',
  summary: 'not available yet',
  usage: 'netdiag sniff',
  options: {},
  help: [],
  allowPositionals: true,
  async run() {
    throw new CLIError('sniff is not available in this build yet');
  },
});
