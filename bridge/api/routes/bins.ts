// Request bins. (To be written.)

import type { ApiContext } from '../context.ts';

export default function bins(_ctx: ApiContext) {}
