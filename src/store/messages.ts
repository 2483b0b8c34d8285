import type { SqlExecutor } from "./sql.js";

/** Inbound webhook ids seen within the replay window: a second delivery of one id is refused. */
export class MessageStore {
  private inserts = 0;

  constructor(private readonly db: SqlExecutor) {}

  /** True the first time `id` is seen; false for a replay. Forgets ids older than `keepMs`. */
  async firstSighting(id: string, now: number, keepMs: number): Promise<boolean> {
    if (++this.inserts % 100 === 0) {
      await this.db.run("DELETE FROM webhook_messages WHERE seen_at < ?", [now - keepMs]);
    }
    const n = await this.db.run(
      "INSERT INTO webhook_messages (id, seen_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING",
      [id, now],
    );
    return n > 0;
  }
}
