const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** `parseDuration` turns "90s" / "30m" / "1h" / "1d" into seconds (the schema has already checked the shape). */
export function parseDuration(text: string): number {
  const unit = text.slice(-1) as keyof typeof UNIT_SECONDS;
  return Number(text.slice(0, -1)) * UNIT_SECONDS[unit];
}

/** `formatDuration` renders seconds the way the config writes them, for messages. */
export function formatDuration(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}
