import type { Command } from '../command.js';
import { UserError } from '../../errors.js';

const command: Command = {
  name: 'build',
  summary: 'build, export, sign and publish the image (npm run build-image)',
  usage: 'usage: pot-image build [--dry-run] [options]',
  options: {},
  async run() {
    throw new UserError('build: not implemented yet');
  },
};
export default command;
