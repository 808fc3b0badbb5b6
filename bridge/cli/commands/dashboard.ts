// hookwire dashboard. (To be written.)

import type { Command } from '../command.ts';

const command: Command = {
  name: 'dashboard',
  summary: '(to be written)',
  usage: 'dashboard',
  async run(_args, ctx) {
    ctx.err('hookwire dashboard: not written yet');
    return 2;
  },
};

export default command;
