// hookwire subscribe. (To be written.)

import type { Command } from '../command.ts';

const command: Command = {
  name: 'subscribe',
  summary: '(to be written)',
  usage: 'subscribe',
  async run(_args, ctx) {
    ctx.err('hookwire subscribe: not written yet');
    return 2;
  },
};

export default command;
