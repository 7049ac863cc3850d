/**
 * Progress of a wait, on stderr. On a terminal: one live line per step with a spinner and the elapsed
 * time, replaced by a check mark when the step is done. Otherwise (`--progress=plain`, logs, CI): one
 * line per change, nothing redrawn.
 */
import type { Writer } from '../kube/request-log.ts';
import { formatDuration } from '../util/duration.ts';

export interface StepProgress {
  update(detail: string): void;
  done(detail?: string): void;
  fail(detail: string): void;
}

export interface Progress {
  step(title: string): StepProgress;
}

export type ProgressMode = 'live' | 'plain';

const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export function createProgress(
  mode: ProgressMode,
  err: Writer,
  clock: () => number = () => performance.now(),
  /** Names the database in front of every line when several are in progress at once. */
  prefix = '',
): Progress {
  const started = clock();
  const stamp = () => `[${formatDuration(clock() - started).padStart(6)}]${prefix ? ` ${prefix}` : ''}`;
  return {
    step(title) {
      const stepStarted = clock();
      let detail = '';
      let finished = false;
      let frame = 0;
      const elapsed = () => formatDuration(clock() - stepStarted);
      const draw = () =>
        err(
          `\r\x1b[2K${frames[frame++ % frames.length]} ${title}${detail ? `: ${detail}` : ''} (${elapsed()})`,
        );
      const timer = mode === 'live' ? setInterval(draw, 100) : undefined;
      timer?.unref();
      if (mode === 'live') draw();
      else err(`${stamp()} ${title}: waiting\n`);
      const finish = (mark: string, word: string, text: string | undefined) => {
        if (finished) return;
        finished = true;
        if (timer) clearInterval(timer);
        const suffix = text ? `: ${text}` : '';
        if (mode === 'live') err(`\r\x1b[2K${mark} ${title}${suffix} (${elapsed()})\n`);
        else err(`${stamp()} ${title}: ${word}${suffix} (${elapsed()})\n`);
      };
      return {
        update(next) {
          if (finished || next === detail) return;
          detail = next;
          if (mode === 'live') draw();
          else err(`${stamp()} ${title}: ${next}\n`);
        },
        done: (text) => finish('✔', 'done', text),
        fail: (text) => finish('✘', 'failed', text),
      };
    },
  };
}
