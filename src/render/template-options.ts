/** How templates are compiled: text, not HTML; missing fields fail; only our helpers and each/if/unless/with. */
export const COMPILE_OPTIONS = {
  noEscape: true,
  strict: true,
  knownHelpersOnly: true,
  // Built-ins beyond each/if/unless/with are switched off: templates hold layout, not lookups.
  knownHelpers: { q: true, json: true, lookup: false, log: false },
} as const;
