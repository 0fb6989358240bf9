import { defineCommand } from './command.js';
import { CLIError } from '../errors.js';

// Not written yet: says so instead of pretending.
export default defineCommand({
  name: 'explain',
  summary: 'not available yet',
  usage: 'netdiag explain',
  options: {},
  help: [],
  allowPositionals: true,
  async run() {
    throw new CLIError('explain is not available in this build yet');
  },
});
