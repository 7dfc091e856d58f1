/** The brake's verdict on one kind of revocation (tokens by principal, or API keys). */
export interface BrakeVerdict {
  tripped: boolean;
  /** Principals (or keys) the run would cut off. */
  affected: number;
  /** Principals holding active tokens (or active keys). */
  population: number;
  maxShare: number;
  floor: number;
  detail: string;
}

/**
 * `checkSafetyBrake` trips when a run would cut off more than `maxShare` of the population and
 * more than `floor` of them. A mass revocation is far more often a broken source or a config
 * mistake than a mass departure; a human confirms it by raising the limit for one run.
 */
export function checkSafetyBrake(what: string, affected: number, population: number, safety: { maxShare: number; floor: number }): BrakeVerdict {
  const share = population === 0 ? 0 : affected / population;
  const tripped = affected > safety.floor && share > safety.maxShare;
  const pct = (n: number) => `${Math.round(n * 1000) / 10}%`;
  const count = `${affected} of ${population} ${what} (${pct(share)})`;
  const detail = tripped
    ? `would revoke ${count}, above safety.max_share ${pct(safety.maxShare)}: nothing was revoked; check the sources below, then raise reconciler.safety.max_share for one run if this is real`
    : affected <= safety.floor
      ? `${count}: at most safety.floor ${safety.floor}, so allowed`
      : `${count}: within safety.max_share ${pct(safety.maxShare)}`;
  return { tripped, affected, population, maxShare: safety.maxShare, floor: safety.floor, detail };
}
