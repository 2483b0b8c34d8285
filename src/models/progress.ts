import cliProgress from "cli-progress";

export interface ProgressReporter {
  /** More bytes are expected. */
  grow(bytes: number): void;
  add(bytes: number): void;
  stop(): void;
}

/** A byte progress bar on a terminal (stderr); silent otherwise. */
export function progressBar(label: string): ProgressReporter {
  if (!process.stderr.isTTY) return { grow() {}, add() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% | {value}/{total} MB`,
      formatValue: (v, _o, type) =>
        type === "value" || type === "total" ? (v / 1e6).toFixed(1) : String(v),
    },
    cliProgress.Presets.shades_classic,
  );
  let total = 0;
  let done = 0;
  bar.start(0, 0);
  return {
    grow(bytes) {
      total += bytes;
      bar.setTotal(total);
    },
    add(bytes) {
      done += bytes;
      bar.update(done);
    },
    stop() {
      bar.stop();
    },
  };
}
