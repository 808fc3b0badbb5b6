// API tokens. (To be written.)

import type { ApiContext } from '../context.ts';

export default function tokens(_ctx: ApiContext) {}
