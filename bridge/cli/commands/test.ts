// hookwire test. (To be written.)

import type { Command } from '../command.ts';

const command: Command = {
  name: 'test',
  summary: '(to be written)',
  usage: 'test',
  async run(_args, ctx) {
    ctx.err('hookwire test: not written yet');
    return 2;
  },
};

export default command;
