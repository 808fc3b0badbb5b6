// hookwire history. (To be written.)

import type { Command } from '../command.ts';

const command: Command = {
  name: 'history',
  summary: '(to be written)',
  usage: 'history',
  async run(_args, ctx) {
    ctx.err('hookwire history: not written yet');
    return 2;
  },
};

export default command;
