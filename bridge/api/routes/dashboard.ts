// Dashboard summary. (To be written.)

import type { ApiContext } from '../context.ts';

export default function dashboard(_ctx: ApiContext) {}
