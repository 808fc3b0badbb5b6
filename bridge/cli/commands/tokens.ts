// hookwire tokens. (To be written.)

import type { Command } from '../command.ts';

const command: Command = {
  name: 'tokens',
  summary: '(to be written)',
  usage: 'tokens',
  async run(_args, ctx) {
    ctx.err('hookwire tokens: not written yet');
    return 2;
  },
};

export default command;
