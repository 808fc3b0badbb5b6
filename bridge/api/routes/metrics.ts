// Prometheus metrics. (To be written.)

import type { ApiContext } from '../context.ts';

export default function metrics(_ctx: ApiContext) {}
