// hookwire bin. (To be written.)

import type { Command } from '../command.ts';

const command: Command = {
  name: 'bin',
  summary: '(to be written)',
  usage: 'bin',
  async run(_args, ctx) {
    ctx.err('hookwire bin: not written yet');
    return 2;
  },
};

export default command;
