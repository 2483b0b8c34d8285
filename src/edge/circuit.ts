/**
 * Per-isolate circuit breakers for the origins: after `failures` failures in a row (5xx, refused,
 * timed out) an origin is open for `cooldownMs` and tried only after every closed one; then one
 * request probes it (half-open) and its answer closes or reopens it. Each isolate learns on its
 * own: a dead origin costs one timeout per isolate per cooldown, not one per request.
 */
export class CircuitBreakers {
  private readonly state = new Map<string, { failures: number; openUntil: number }>();

  constructor(
    private readonly failures: number,
    private readonly cooldownMs: number,
  ) {}

  isOpen(origin: string, now: number): boolean {
    const s = this.state.get(origin);
    if (!s || s.failures < this.failures) return false;
    if (now >= s.openUntil) {
      // Half-open: let this request probe it; a failure reopens it for another cooldown.
      s.openUntil = now + this.cooldownMs;
      return false;
    }
    return true;
  }

  success(origin: string): void {
    this.state.delete(origin);
  }

  failure(origin: string, now: number): void {
    const s = this.state.get(origin) ?? { failures: 0, openUntil: 0 };
    s.failures += 1;
    if (s.failures >= this.failures) s.openUntil = now + this.cooldownMs;
    this.state.set(origin, s);
  }
}

const isolate = new Map<string, CircuitBreakers>();

/** The isolate's breakers for these settings (one set per configuration). */
export function isolateBreakers(failures: number, cooldownMs: number): CircuitBreakers {
  const key = `${failures}/${cooldownMs}`;
  let b = isolate.get(key);
  if (!b) {
    b = new CircuitBreakers(failures, cooldownMs);
    isolate.set(key, b);
  }
  return b;
}
