import { defineCommand } from './command.js';
import { CLIError } from '../errors.js';

// Not written yet: says so instead of pretending.
export default defineCommand({
  name: 'verify',
  summary: 'not available yet',
  usage: 'netdiag verify',
  options: {},
  help: [],
  allowPositionals: true,
  async run() {
    throw new CLIError('verify is not available in this build yet');
  },
});
