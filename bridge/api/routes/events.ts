// Event stream (SSE) and publishing from the cloud. (To be written.)

import type { ApiContext } from '../context.ts';

export default function events(_ctx: ApiContext) {}
