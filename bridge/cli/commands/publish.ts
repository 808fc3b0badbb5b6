// hookwire publish. (To be written.)

import type { Command } from '../command.ts';

const command: Command = {
  name: 'publish',
  summary: '(to be written)',
  usage: 'publish',
  async run(_args, ctx) {
    ctx.err('hookwire publish: not written yet');
    return 2;
  },
};

export default command;
