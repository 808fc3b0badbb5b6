// The doctors of bridges sharing a Redis (HOOKWIRE_REDIS) ask each other what they saw, when
// asked to run: each bridge's tracker watches only the events, attempts and logins that went
// through it, and a device refused at login on one bridge, or an integration whose responses
// (delivered by another) are too large for devices, must be reported by the doctor on any.
// Nothing is shared while nobody asks: the hot path stays a Map increment on each bridge.
//
// A question goes to every bridge on one channel; PUBLISH says how many bridges listen, so the
// asker knows how many answers to wait for. Each answers on the asker's own channel with its
// tracker's figures and its connected devices' subscriptions. A bridge that does not answer
// within the timeout is left out (logged): the doctor reports what the others saw.

import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { closeRedis, openRedis } from '../cluster/index.ts';
import type { Logger } from '../log.ts';
import type { SeenSnapshot } from './tracker.ts';

/** Where questions go; answers go to `${DOCTOR_CHANNEL}:<bridge ID>`. A `#` no MQTT topic may hold [MQTT-3.3.2-2]. */
export const DOCTOR_CHANNEL = 'hookwire#doctor';

/** What one bridge saw: its tracker's figures, and each device connected to it with its subscriptions. */
export interface Observations {
  bridgeId: string;
  seen: SeenSnapshot;
  subscriptions: [deviceId: string, filters: string[]][];
}

export interface DoctorPeers {
  bridgeId: string;
  /** Ask every other bridge what it saw; resolves with the answers that came within the timeout. */
  gather(): Promise<Observations[]>;
  /** Answer the other bridges' questions with what `observe` returns. */
  answer(observe: () => Omit<Observations, 'bridgeId'>): void;
  close(): Promise<void>;
}

export interface DoctorPeersOptions {
  /** redis:// or rediss:// URL (HOOKWIRE_REDIS). */
  url: string;
  logger: Logger;
  /** This bridge's ID on the channel; default a random one. */
  bridgeId?: string;
  /** How long to wait for the other bridges' answers, ms. Default 3 s. */
  timeoutMs?: number;
}

interface Question {
  from: string;
  ask: string;
}

interface Answer {
  reply: string;
  observations: Observations;
}

interface Asking {
  answers: Observations[];
  /** Answers expected: the bridges listening, but this one; unknown until PUBLISH returns. */
  expected: number | undefined;
  done(): void;
}

function parse<T>(text: string): Partial<T> | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === 'object' ? (value as Partial<T>) : undefined;
  } catch {
    return undefined;
  }
}

export async function startDoctorPeers({ url, logger, bridgeId = randomUUID(), timeoutMs = 3_000 }: DoctorPeersOptions): Promise<DoctorPeers> {
  const log = logger.child({ component: 'doctor' });
  const own = `${DOCTOR_CHANNEL}:${bridgeId}`;
  const pub: Redis = await openRedis(url, 'doctor-pub', logger);
  let sub: Redis;
  try {
    sub = await openRedis(url, 'doctor-sub', logger);
    await sub.subscribe(DOCTOR_CHANNEL, own);
  } catch (err) {
    await closeRedis(pub);
    throw err;
  }

  const asking = new Map<string, Asking>();
  let observe: (() => Omit<Observations, 'bridgeId'>) | undefined;

  function answerQuestion(text: string): void {
    const q = parse<Question>(text);
    if (!q || typeof q.from !== 'string' || typeof q.ask !== 'string') return log.warn({ channel: DOCTOR_CHANNEL }, 'not a doctor question: ignored');
    if (q.from === bridgeId || !observe) return;
    const answer: Answer = { reply: q.ask, observations: { bridgeId, ...observe() } };
    pub.publish(`${DOCTOR_CHANNEL}:${q.from}`, JSON.stringify(answer)).catch((err: Error) => log.warn({ err }, 'could not answer another bridge\'s doctor'));
  }

  function takeAnswer(text: string): void {
    const a = parse<Answer>(text);
    const o = a?.observations;
    if (!a || typeof a.reply !== 'string' || !o || typeof o.bridgeId !== 'string' || !o.seen || !Array.isArray(o.subscriptions)) {
      return log.warn({ channel: own }, 'not a doctor answer: ignored');
    }
    const q = asking.get(a.reply);
    if (!q) return; // too late: that doctor ran without it
    q.answers.push(o);
    if (q.expected !== undefined && q.answers.length >= q.expected) q.done();
  }

  sub.on('message', (channel: string, text: string) => {
    if (channel === DOCTOR_CHANNEL) answerQuestion(text);
    else if (channel === own) takeAnswer(text);
  });

  return {
    bridgeId,
    answer(fn) {
      observe = fn;
    },
    async gather() {
      const id = randomUUID();
      let timer: NodeJS.Timeout | undefined;
      const q: Asking = { answers: [], expected: undefined, done: () => {} };
      const answered = new Promise<void>((resolve) => {
        q.done = resolve;
        timer = setTimeout(resolve, timeoutMs);
      });
      asking.set(id, q);
      try {
        const question: Question = { from: bridgeId, ask: id };
        const listening = await pub.publish(DOCTOR_CHANNEL, JSON.stringify(question));
        q.expected = Math.max(0, listening - 1); // every bridge listens, this one too
        if (q.answers.length >= q.expected) q.done();
        await answered;
        if (q.answers.length < q.expected) log.warn({ expected: q.expected, answered: q.answers.length, timeoutMs }, 'some bridges did not tell the doctor what they saw in time: reporting without them');
        return q.answers;
      } catch (err) {
        log.warn({ err }, 'could not ask the other bridges what they saw: reporting what this bridge saw');
        return q.answers;
      } finally {
        clearTimeout(timer);
        asking.delete(id);
      }
    },
    async close() {
      observe = undefined;
      for (const q of asking.values()) q.done();
      await Promise.all([closeRedis(sub), closeRedis(pub)]);
    },
  };
}
