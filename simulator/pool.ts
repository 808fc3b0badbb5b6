// A bounded worker pool: a fleet of 1,000 devices registers and connects a few dozen at a
// time, so neither the bridge's API nor its broker sees a thundering herd.

/**
 * Run `work` over `items`, at most `limit` at once. Stops starting new items once `signal`
 * is aborted or an item fails; waits for the running ones, then rethrows the first failure.
 */
export async function runPool<T>(items: readonly T[], limit: number,
  work: (item: T, index: number) => Promise<void>, signal?: AbortSignal): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  async function worker(): Promise<void> {
    while (next < items.length && !failure && !signal?.aborted) {
      const index = next++;
      try {
        await work(items[index]!, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}
