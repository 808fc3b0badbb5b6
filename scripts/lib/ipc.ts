// Request and reply over a child's IPC channel: the bench calls a command by name, the child
// answers with a JSON value (or an error). Used by the webhook bench's children
// (scripts/receiver.ts, scripts/load-http.ts, scripts/load-webhooks.ts).

import type { Child } from './bench.ts';

interface Request {
  id: number;
  cmd: string;
  arg?: unknown;
}

type Reply = { id: number; result: unknown } | { id: number; error: string };

export interface Remote {
  /** Run `cmd` in the child; resolves with its result. */
  call<T = unknown>(cmd: string, arg?: unknown): Promise<T>;
}

/** The bench's side: calls into a child started with `ipc: true`. */
export function remote(child: Child): Remote {
  const proc = child.process;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let next = 0;
  proc.on('message', (reply: Reply) => {
    const w = waiting.get(reply.id);
    if (!w) return;
    waiting.delete(reply.id);
    if ('error' in reply) w.reject(new Error(`${child.name}: ${reply.error}`));
    else w.resolve(reply.result);
  });
  proc.once('exit', () => {
    for (const w of waiting.values()) w.reject(new Error(`${child.name} exited`));
    waiting.clear();
  });
  return {
    call<T>(cmd: string, arg?: unknown) {
      return new Promise<T>((resolve, reject) => {
        if (!proc.connected) return reject(new Error(`${child.name} is gone`));
        const id = next++;
        waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
        proc.send({ id, cmd, arg } satisfies Request);
      });
    },
  };
}

export type Handlers = Record<string, (arg: unknown) => unknown>;

/**
 * The child's side: answer the bench's calls. The child exits when the bench goes away
 * (the IPC channel closes), so it never outlives a bench that died.
 */
export function serve(handlers: Handlers): void {
  process.on('message', (req: Request) => {
    const handler = handlers[req.cmd];
    Promise.resolve()
      .then(() => {
        if (!handler) throw new Error(`unknown command ${req.cmd}`);
        return handler(req.arg);
      })
      .then(
        (result) => process.send!({ id: req.id, result: result ?? null } satisfies Reply),
        (err: unknown) => process.send!({ id: req.id, error: err instanceof Error ? err.message : String(err) } satisfies Reply),
      );
  });
  process.on('disconnect', () => process.exit(0));
}
