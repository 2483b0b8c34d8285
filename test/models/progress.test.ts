import { stripVTControlCharacters } from "node:util";
import { describe, expect, it } from "vitest";
import { formatBytes, progress, progressText } from "../../src/models/progress.js";

/** A terminal stand-in: what cli-progress writes, with the escape sequences dropped. */
function fakeTerminal() {
  const writes: string[] = [];
  return {
    stream: {
      isTTY: true,
      columns: 120,
      write(chunk: string) {
        writes.push(chunk);
        return true;
      },
    },
    frames: () => writes.map((w) => stripVTControlCharacters(w)).filter(Boolean),
  };
}

describe("progress on a terminal", () => {
  it("the bar's first frame is 0% of the known total, never 100% of 0", () => {
    const term = fakeTerminal();
    const bar = progress("acme/tiny-embed@0123456", 91_000_000, { stream: term.stream });
    bar.add(45_500_000);
    bar.stop();
    const frames = term.frames();
    expect(frames.length).toBeGreaterThan(0);
    expect(frames[0]).toContain("acme/tiny-embed@0123456 [");
    expect(frames[0]).toContain("0.0/91.0 MB (0%)");
    expect(frames.join("")).not.toContain("100%");
    expect(frames.join("")).toContain("45.5/91.0 MB (50%)");
  });

  it("without a known total: bytes and rate, no percentage", () => {
    const term = fakeTerminal();
    const bar = progress("s3://models/x", null, { stream: term.stream });
    bar.add(2_000_000);
    bar.stop();
    const frames = term.frames();
    expect(frames[0]).toMatch(/^s3:\/\/models\/x 0 B, /);
    expect(frames.join("")).not.toContain("%");
  });
});

describe("progress off a terminal (containers, Lambda)", () => {
  const notATerminal = { isTTY: false, write: () => true };

  it("logs a start line, a line every interval with bytes, rate and ETA, and a summary", () => {
    let t = 0;
    const lines: string[] = [];
    const bar = progress("acme/tiny-embed@0123456", 100_000_000, {
      stream: notATerminal,
      log: (l) => lines.push(l),
      everyMs: 5000,
      now: () => t,
    });
    t = 1000;
    bar.add(10_000_000); // before the interval: no line
    t = 5000;
    bar.add(15_000_000); // 25 MB in 5 s: 5 MB/s, 75 MB left: 15 s
    t = 9000;
    bar.add(20_000_000); // not 5 s since the last line
    t = 10_000;
    bar.add(25_000_000); // 70 MB in 10 s: 7 MB/s, 30 MB left: 4 s
    t = 14_000;
    bar.add(30_000_000);
    bar.stop();
    bar.stop(); // once
    expect(lines).toEqual([
      "acme/tiny-embed@0123456: downloading 100.0 MB",
      "acme/tiny-embed@0123456: 25.0/100.0 MB (25%), 5.0 MB/s, ETA 15 s",
      "acme/tiny-embed@0123456: 70.0/100.0 MB (70%), 7.0 MB/s, ETA 4 s",
      "acme/tiny-embed@0123456: 100.0 MB in 14.0 s (7.1 MB/s)",
    ]);
  });

  it("a job cut short says so; without a log nothing is written; a zero-byte job is silent", () => {
    let t = 0;
    const lines: string[] = [];
    const bar = progress("x", 2_000_000, {
      stream: notATerminal,
      log: (l) => lines.push(l),
      now: () => t,
    });
    bar.add(500_000);
    t = 2000;
    bar.stop();
    expect(lines.at(-1)).toBe("x: 500.0 kB of 2.0 MB (stopped) in 2.0 s (250.0 kB/s)");
    const writes: string[] = [];
    const silent = progress("y", 10, { stream: { isTTY: false, write: (c) => !!writes.push(c) } });
    silent.add(10);
    silent.stop();
    expect(writes).toEqual([]);
    const none: string[] = [];
    progress("z", 0, { stream: notATerminal, log: (l) => none.push(l) }).stop();
    expect(none).toEqual([]);
  });

  it("formats sizes, rates and long ETAs", () => {
    expect(formatBytes(812)).toBe("812 B");
    expect(formatBytes(51_234)).toBe("51.2 kB");
    expect(formatBytes(2_500_000_000)).toBe("2.5 GB");
    expect(progressText(1_000_000_000, 2_000_000_000, 100_000)).toBe(
      "1.0/2.0 GB (50%), 10.0 MB/s, ETA 1 min 40 s",
    );
    expect(progressText(0, 1000, 0)).toBe("0.0/1.0 kB (0%), 0 B/s, ETA ?");
  });
});
