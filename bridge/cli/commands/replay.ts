// hookwire replay. (To be written.)

import type { Command } from '../command.ts';

const command: Command = {
  name: 'replay',
  summary: '(to be written)',
  usage: 'replay',
  async run(_args, ctx) {
    ctx.err('hookwire replay: not written yet');
    return 2;
  },
};

export default command;
