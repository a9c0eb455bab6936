/**
 * A progress line for long-running CLI work on a terminal (`andon replay` on a
 * large input): percent of the file read, lines so far, lines/s, redrawn in
 * place at most every `interval` ms and erased by `done()`, so what remains on
 * the terminal is the summary alone. Time comes from the injected `now`.
 *
 *   replay:  42% │ 1,234,567 lines │ 161,204 lines/s │ 52.1 of 124.0 MiB │ ~8s left
 */
export interface ProgressOptions {
  label: string;
  /** Size of the input in bytes (the 100%). */
  total: number;
  write: (s: string) => void;
  /** Milliseconds, monotonic (performance.now in the CLI, a fake clock in tests). */
  now: () => number;
  /** Least time between two redraws, ms. */
  interval?: number;
  /** Terminal width; the line is cut to fit so it never wraps (a wrapped line cannot be redrawn in place). */
  columns?: number;
}

export interface Progress {
  /** Lines and bytes read so far; draws when the interval has passed since the last draw. */
  update(lines: number, bytes: number): void;
  /** Erases the line (if one was drawn). */
  done(): void;
}

/** Inputs smaller than this finish too fast for a progress line to help. */
export const LARGE_INPUT_BYTES = 1_048_576;

/** `\r` back to column 0, then ESC[2K erases the whole line. */
const ERASE = '\r\x1b[2K';

/** 1234567.8 → `1,234,568` (Intl.NumberFormat's en-US whole numbers, without loading ICU's number data for a progress line). */
const int = { format: (n: number) => String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',') };
const mib = (bytes: number) => (bytes / 1_048_576).toFixed(1);

function eta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '';
  if (seconds < 60) return `~${Math.ceil(seconds)}s left`;
  if (seconds < 3600) return `~${Math.round(seconds / 60)}m left`;
  return `~${(seconds / 3600).toFixed(1)}h left`;
}

/** The text of one progress line (no control characters). */
export function formatProgress(label: string, lines: number, bytes: number, total: number, elapsedMs: number): string {
  const pct = total > 0 ? Math.min(100, Math.floor((bytes / total) * 100)) : 0;
  const rate = elapsedMs > 0 ? (lines / elapsedMs) * 1000 : 0;
  const byteRate = elapsedMs > 0 ? (bytes / elapsedMs) * 1000 : 0;
  const parts = [`${label}: ${String(pct).padStart(3)}%`, `${int.format(lines)} lines`, `${int.format(rate)} lines/s`, `${mib(bytes)} of ${mib(total)} MiB`];
  const left = byteRate > 0 ? eta((total - bytes) / byteRate) : '';
  if (left) parts.push(left);
  return parts.join(' │ ');
}

/** A rate-limited progress line; the first update draws at once, later ones at most every `interval` ms. */
export function progressLine(opts: ProgressOptions): Progress {
  const interval = opts.interval ?? 250;
  const started = opts.now();
  let lastDraw = -Infinity;
  let drawn = false;
  return {
    update(lines, bytes) {
      const t = opts.now();
      if (t - lastDraw < interval) return;
      lastDraw = t;
      drawn = true;
      let text = formatProgress(opts.label, lines, bytes, opts.total, t - started);
      if (opts.columns && text.length >= opts.columns) text = text.slice(0, Math.max(0, opts.columns - 1));
      opts.write(ERASE + text);
    },
    done() {
      if (drawn) opts.write(ERASE);
      drawn = false;
    },
  };
}
