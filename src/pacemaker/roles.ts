/** Pacemaker's resource roles, the names before 2.1 (Master/Slave) read as the current ones. */
export const PACEMAKER_ROLES = ['Unknown', 'Stopped', 'Started', 'Unpromoted', 'Promoted'] as const;
export type PacemakerRole = (typeof PACEMAKER_ROLES)[number];

const LEGACY: Record<string, PacemakerRole> = { Master: 'Promoted', Slave: 'Unpromoted' };

/** The role word normalised (Master → Promoted, Slave → Unpromoted), or null when it is not a role. */
export function normalizeRole(word: string): PacemakerRole | null {
  const legacy = LEGACY[word];
  if (legacy !== undefined) return legacy;
  return (PACEMAKER_ROLES as readonly string[]).includes(word) ? (word as PacemakerRole) : null;
}
