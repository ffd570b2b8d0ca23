/** `params` rules every service shares. */

/** An entity id: any non-empty string up to 64 characters (each store decides whether it holds such an id). */
export const idRule = { type: "string", min: 1, max: 64 } as const;
