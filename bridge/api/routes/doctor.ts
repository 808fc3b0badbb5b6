// Doctor. (To be written.)

import type { ApiContext } from '../context.ts';

export default function doctor(_ctx: ApiContext) {}
