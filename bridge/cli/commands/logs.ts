// hookwire logs. (To be written.)

import type { Command } from '../command.ts';

const command: Command = {
  name: 'logs',
  summary: '(to be written)',
  usage: 'logs',
  async run(_args, ctx) {
    ctx.err('hookwire logs: not written yet');
    return 2;
  },
};

export default command;
