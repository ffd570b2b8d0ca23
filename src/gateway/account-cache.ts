/**
 * The gateway's memory of the accounts behind tokens, so that an authenticated request
 * costs neither a call nor, once its token was seen, a signature check: on a miss the
 * gateway verifies the token itself (every node has JWT_SECRET) and asks the users service
 * for the account.
 *
 * Entries are keyed by the token and never outlive it. Every change of a user (password,
 * role, removal) makes the users service broadcast `cache.clean.users` to every node, which
 * empties this cache; an entry also expires after `ttlMs`, in case a broadcast is lost. A
 * read that started before a clean is not kept: it may have read the account as it was
 * before the change.
 */
export class AccountCache<T> {
	private readonly entries = new Map<string, { value: T; until: number }>();
	/** Bumped by every clean: a load that saw another generation began before it. */
	private generation = 0;

	constructor(
		private readonly ttlMs: number,
		private readonly maxEntries: number,
		private readonly now: () => number = Date.now,
	) {}

	/**
	 * The entry of `key`, or the value `load` answers, kept until `expiresAt` at the latest
	 * (unless null, or cleaned meanwhile).
	 */
	async get(key: string, load: () => Promise<{ value: T; expiresAt: number } | null>): Promise<T | null> {
		const hit = this.peek(key);
		if (hit !== undefined) return hit;
		const generation = this.generation;
		const loaded = await load();
		if (!loaded) return null;
		if (generation === this.generation) this.keep(key, loaded.value, loaded.expiresAt);
		return loaded.value;
	}

	/** The entry of `key` while it lasts, without loading anything: what a request already seen can be answered with at once. */
	peek(key: string): T | undefined {
		const hit = this.entries.get(key);
		return hit && hit.until > this.now() ? hit.value : undefined;
	}

	clear(): void {
		this.generation++;
		this.entries.clear();
	}

	private keep(key: string, value: T, expiresAt: number): void {
		this.entries.delete(key);
		// Oldest first in a Map: the first key is the one kept longest ago.
		if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
		this.entries.set(key, { value, until: Math.min(this.now() + this.ttlMs, expiresAt) });
	}
}
