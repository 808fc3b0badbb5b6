// Lanes: each target host gets its own bounded queue and its own limit on requests in
// flight, so a host that hangs fills only its own lane and never starves the others. Work
// that does not fit stays pending in the store until its lane has room again.

export interface LaneOptions {
  /** Requests in flight per host. Default 32. */
  concurrency: number;
  /** Jobs waiting in memory per host, beyond those in flight. Default 1,000. */
  queue: number;
}

export const laneDefaults: LaneOptions = { concurrency: 32, queue: 1_000 };

/** What the lanes call: the stage that runs a job, and whoever waits for room (the scheduler). */
export interface LanePorts<J> {
  /** Runs one job; its promise settles when the attempt is done. */
  run: (job: J) => Promise<void>;
  /** Called when a lane with nothing waiting has room again. */
  room: (host: string) => void;
}

interface Lane<J> {
  active: number;
  waiting: J[];
  /** Slots promised to jobs being committed to the store, not pushed yet. */
  reserved: number;
}

export class Lanes<J> {
  private readonly lanes = new Map<string, Lane<J>>();

  constructor(
    private readonly options: LaneOptions,
    private readonly ports: LanePorts<J>,
  ) {}

  private lane(host: string): Lane<J> {
    let l = this.lanes.get(host);
    if (!l) this.lanes.set(host, (l = { active: 0, waiting: [], reserved: 0 }));
    return l;
  }

  /** How many more jobs the host's lane can take now. */
  room(host: string): number {
    const l = this.lanes.get(host);
    if (!l) return this.options.concurrency + this.options.queue;
    return Math.max(0, this.options.concurrency + this.options.queue - l.active - l.waiting.length - l.reserved);
  }

  /** Promise a slot to a job about to be pushed; false when the lane is full. */
  reserve(host: string): boolean {
    if (this.room(host) === 0) return false;
    this.lane(host).reserved++;
    return true;
  }

  /** Give back a promised slot that will not be used. */
  release(host: string): void {
    const l = this.lanes.get(host);
    if (l && l.reserved > 0) l.reserved--;
  }

  /** Push a job: reserved earlier, or claimed from the store within `room`. */
  push(host: string, job: J, reserved: boolean): void {
    const l = this.lane(host);
    if (reserved) l.reserved--;
    if (l.active < this.options.concurrency) this.start(host, l, job);
    else l.waiting.push(job);
  }

  private start(host: string, l: Lane<J>, job: J): void {
    l.active++;
    this.ports.run(job).finally(() => {
      l.active--;
      const next = l.waiting.shift();
      if (next !== undefined) this.start(host, l, next);
      else if (l.active === 0 && l.reserved === 0) this.lanes.delete(host); // idle lanes cost nothing
      if (l.waiting.length === 0) this.ports.room(host);
    });
  }

  /** Jobs in flight and waiting, per host (for metrics and the doctor). */
  depths(): { host: string; active: number; waiting: number }[] {
    return [...this.lanes].map(([host, l]) => ({ host, active: l.active, waiting: l.waiting.length }));
  }

  get busy(): number {
    let n = 0;
    for (const l of this.lanes.values()) n += l.active + l.waiting.length;
    return n;
  }
}
