// The goals `npm run bench` checks, each printed next to its measured figure.

export type Op = "≥" | "≤" | "";

export interface Goal {
  name: string;
  value: number;
  op: Op;
  /** null: a figure shown for information, with no goal. */
  target: number | null;
}

export const goal = (name: string, value: number, op: Op, target: number | null): Goal => ({
  name,
  value,
  op,
  target,
});

export const info = (name: string, value: number): Goal => goal(`${name} (info)`, value, "", null);

export function met(g: Goal): boolean | null {
  if (g.target === null || !Number.isFinite(g.value)) return g.target === null ? null : false;
  return g.op === "≥" ? g.value >= g.target : g.value <= g.target;
}

const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(Math.abs(v) >= 100 ? 0 : 3) : "n/a");

/** The goals table: name, measured, target, met/MISSED. */
export function goalsTable(goals: readonly Goal[]): string[] {
  const width = Math.max(50, ...goals.map((g) => g.name.length));
  return [
    `${"goal".padEnd(width)} ${"measured".padStart(8)}   target`,
    ...goals.map((g) => {
      const ok = met(g);
      const verdict = ok === null ? "" : ok ? "  met" : "  MISSED";
      const target = g.target === null ? "" : `${g.op} ${g.target}`;
      return `${g.name.padEnd(width)} ${fmt(g.value).padStart(8)}   ${target}${verdict}`;
    }),
  ];
}
