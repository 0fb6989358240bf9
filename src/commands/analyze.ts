import { defineCommand } from './command.js';
import { CLIError } from '../errors.js';

// Not written yet: says so instead of pretending.
export default defineCommand({
  name: 'analyze',
  summary: 'not available yet',
  usage: 'netdiag analyze',
  options: {},
  help: [],
  allowPositionals: true,
  async run() {
    throw new CLIError('analyze is not available in this build yet');
  },
});
