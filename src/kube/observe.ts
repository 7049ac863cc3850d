/**
 * List-then-watch that never misses a change: it resumes each watch from the last resourceVersion it
 * saw, re-lists on 410 Gone or a broken connection, and reports every object it (re)lists as a
 * `sync` event. Used by the waits of enable/rotate and by the test-only KubeDB stand-in.
 */
import { ApiError } from '../errors.ts';
import type { KubeClient, ListOptions } from './client.ts';
import type { KubeObject } from './objects.ts';
import type { ResourceType } from './resources.ts';

export type ObservedEvent<T extends KubeObject> =
  | { type: 'sync'; objects: T[] }
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: T };

export interface ObserveOptions extends ListOptions {
  signal: AbortSignal;
  /** Pause before re-listing after a failure. */
  retryDelayMs?: number;
  /** Called when a list or watch fails; observation goes on unless the error is thrown again. */
  onError?: (error: unknown) => void;
}

export async function observe<T extends KubeObject>(
  client: KubeClient,
  type: ResourceType,
  options: ObserveOptions,
  handle: (event: ObservedEvent<T>) => void | Promise<void>,
): Promise<void> {
  const { signal, retryDelayMs = 500 } = options;
  const selectors = {
    namespace: options.namespace,
    labelSelector: options.labelSelector,
    fieldSelector: options.fieldSelector,
  };
  while (!signal.aborted) {
    try {
      const list = await client.list<T>(type, selectors);
      await handle({ type: 'sync', objects: list.items });
      let resourceVersion = list.metadata.resourceVersion;
      while (!signal.aborted) {
        for await (const event of client.watch<T>(type, { ...selectors, resourceVersion, signal })) {
          resourceVersion = event.object.metadata?.resourceVersion ?? resourceVersion;
          if (event.type === 'BOOKMARK') continue;
          await handle(event as ObservedEvent<T>);
        }
      }
    } catch (error) {
      if (signal.aborted) return;
      if (!(error instanceof ApiError && error.status === 410)) options.onError?.(error);
      await delay(retryDelayMs, signal);
    }
  }
}

export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
