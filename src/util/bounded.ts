/** `fn` over every item, at most `limit` at once, results in the items' order. */
export async function mapBounded<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** A turn-taker for async work: each task starts once the one before it has settled, in call order. */
export function oneAtATime(): <R>(task: () => Promise<R>) => Promise<R> {
  let last: Promise<unknown> = Promise.resolve();
  return <R>(task: () => Promise<R>) => {
    const result = last.then(task);
    last = result.catch(() => undefined);
    return result;
  };
}
