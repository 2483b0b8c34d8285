import cliProgress from "cli-progress";

/** Progress of one long job counted in bytes (a download, a quantization). */
export interface ProgressReporter {
  add(bytes: number): void;
  /** The job ended (or failed): the bar is closed, a summary line logged. */
  stop(): void;
}

/** Where a bar is drawn: a terminal stream (process.stderr) or anything shaped like one. */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(chunk: string): boolean;
}

export interface ProgressOptions {
  /**
   * Off a terminal (containers, Lambda, pipes): a start line, a line every `everyMs` while bytes
   * arrive (done, rate, ETA) and a summary. Without it, nothing is written off a terminal.
   */
  log?: (line: string) => void;
  /** The start line's text after the label, given the total's size (default `downloading 91.0 MB`). */
  starting?: (size: string) => string;
  /** The terminal the bar is drawn on (default process.stderr; a bar only when it is a TTY). */
  stream?: ProgressStream;
  /** Time between progress lines off a terminal, ms (default 5000). */
  everyMs?: number;
  /** Clock in ms (default performance.now). */
  now?: () => number;
}

const SILENT: ProgressReporter = { add() {}, stop() {} };

const UNITS: Array<[number, string]> = [
  [1e9, "GB"],
  [1e6, "MB"],
  [1e3, "kB"],
];

/** The unit that reads best for a byte count: GB, MB, kB or B. */
function unitFor(bytes: number): [number, string] {
  return UNITS.find(([size]) => bytes >= size) ?? [1, "B"];
}

const num = (bytes: number, [size]: [number, string]) =>
  size === 1 ? String(Math.round(bytes)) : (bytes / size).toFixed(1);

/** `91.0 MB`, `51.2 kB`, `812 B`. */
export function formatBytes(bytes: number): string {
  const unit = unitFor(bytes);
  return `${num(bytes, unit)} ${unit[1]}`;
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.max(0, Math.round(seconds));
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
}

/** `45.2/91.0 MB (49%), 12.3 MB/s, ETA 4 s`; without a known total, `45.2 MB, 12.3 MB/s`. */
export function progressText(done: number, total: number | null, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? done / (elapsedMs / 1000) : 0;
  const speed = `${formatBytes(rate)}/s`;
  if (total === null || total <= 0) return `${formatBytes(done)}, ${speed}`;
  const unit = unitFor(total);
  const pct = Math.floor((Math.min(done, total) / total) * 100);
  const eta = rate > 0 ? duration((total - done) / rate) : "?";
  return `${num(done, unit)}/${num(total, unit)} ${unit[1]} (${pct}%), ${speed}, ETA ${eta}`;
}

/**
 * Report a job's bytes: a bar on a terminal, periodic log lines elsewhere (when given a log).
 * `total` is the byte count when known before the first byte (never guessed from what has
 * arrived, so the bar starts at 0% and only grows); null shows bytes and rate only.
 */
export function progress(
  label: string,
  total: number | null,
  opts: ProgressOptions = {},
): ProgressReporter {
  if (total === 0) return SILENT;
  const stream = opts.stream ?? process.stderr;
  if (stream.isTTY) return terminalBar(label, total, stream);
  const log = opts.log;
  if (!log) return SILENT;
  const now = opts.now ?? (() => performance.now());
  const every = opts.everyMs ?? 5000;
  const start = now();
  let last = start;
  let done = 0;
  let stopped = false;
  const known = total !== null && total > 0;
  const size = known ? formatBytes(total) : "(size unknown)";
  log(`${label}: ${opts.starting ? opts.starting(size) : `downloading ${size}`}`);
  return {
    add(bytes) {
      done += bytes;
      const t = now();
      if (t - last >= every) {
        last = t;
        log(`${label}: ${progressText(done, total, t - start)}`);
      }
    },
    stop() {
      if (stopped) return;
      stopped = true;
      const ms = now() - start;
      const rate = ms > 0 ? `${formatBytes(done / (ms / 1000))}/s` : "—";
      const partial = known && done < total ? ` of ${formatBytes(total)} (stopped)` : "";
      log(`${label}: ${formatBytes(done)}${partial} in ${(ms / 1000).toFixed(1)} s (${rate})`);
    },
  };
}

/** cli-progress draws the bar (redraws, width, cursor); the text is ours. */
function terminalBar(label: string, total: number | null, stream: ProgressStream) {
  const known = total !== null && total > 0;
  const bar = new cliProgress.SingleBar(
    {
      stream: stream as NodeJS.WritableStream,
      hideCursor: false,
      gracefulExit: false,
      format: (options, params) => {
        const elapsed = Date.now() - params.startTime;
        const text = progressText(params.value, known ? params.total : null, elapsed);
        if (!known) return `${label} ${text}`;
        return `${label} [${cliProgress.Format.BarFormat(params.progress, options)}] ${text}`;
      },
    },
    cliProgress.Presets.shades_classic,
  );
  let done = 0;
  bar.start(known ? total : 1, 0);
  return {
    add(bytes: number) {
      done += bytes;
      bar.update(done);
    },
    stop() {
      bar.stop();
    },
  };
}

/** A progress (or cache) line on stderr: the CLI's log off a terminal. */
export function stderrLine(line: string): void {
  process.stderr.write(`${line}\n`);
}
