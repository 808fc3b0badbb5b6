// hookwire doctor. (To be written.)

import type { Command } from '../command.ts';

const command: Command = {
  name: 'doctor',
  summary: '(to be written)',
  usage: 'doctor',
  async run(_args, ctx) {
    ctx.err('hookwire doctor: not written yet');
    return 2;
  },
};

export default command;
