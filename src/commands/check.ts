import { defineCommand } from './command.js';
import { CLIError } from '../errors.js';

// Not written yet: says so instead of pretending.
export default defineCommand({
  name: 'check',
  summary: 'not available yet',
  usage: 'netdiag check',
  options: {},
  help: [],
  allowPositionals: true,
  async run() {
    throw new CLIError('check is not available in this build yet');
  },
});
