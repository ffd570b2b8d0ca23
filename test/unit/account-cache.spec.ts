import { AccountCache } from "../../src/gateway/account-cache";

describe("the gateway's account cache", () => {
	let now = 0;
	const cache = () => new AccountCache<string>(1000, 2, () => now);
	const counting = (expiresAt = Infinity) => jest.fn(async () => ({ value: "ann", expiresAt }));

	beforeEach(() => (now = 0));

	it("asks once for an account it keeps, again once it expired", async () => {
		const accounts = cache();
		const load = counting();
		expect(await accounts.get("token-1", load)).toBe("ann");
		expect(await accounts.get("token-1", load)).toBe("ann");
		expect(load).toHaveBeenCalledTimes(1);
		now = 1000;
		await accounts.get("token-1", load);
		expect(load).toHaveBeenCalledTimes(2);
	});

	it("keeps no account past its token's expiry", async () => {
		const accounts = cache();
		const load = counting(300);
		await accounts.get("token", load);
		now = 299;
		await accounts.get("token", load);
		expect(load).toHaveBeenCalledTimes(1);
		now = 300;
		await accounts.get("token", load);
		expect(load).toHaveBeenCalledTimes(2);
	});

	it("shows an account it keeps without loading, and none once expired or cleaned", async () => {
		const accounts = cache();
		expect(accounts.peek("token-1")).toBeUndefined();
		await accounts.get("token-1", counting(500));
		expect(accounts.peek("token-1")).toBe("ann");
		now = 500;
		expect(accounts.peek("token-1")).toBeUndefined();
		now = 0;
		await accounts.get("token-2", counting());
		accounts.clear();
		expect(accounts.peek("token-2")).toBeUndefined();
	});

	it("forgets every account on a clean", async () => {
		const accounts = cache();
		const load = counting();
		await accounts.get("token-1", load);
		accounts.clear();
		await accounts.get("token-1", load);
		expect(load).toHaveBeenCalledTimes(2);
	});

	it("does not keep what was read before a clean that came during the read", async () => {
		const accounts = cache();
		let finish!: (value: string) => void;
		const stale = accounts.get(
			"token-1",
			() => new Promise<{ value: string; expiresAt: number }>(resolve => (finish = value => resolve({ value, expiresAt: Infinity }))),
		);
		accounts.clear();
		finish("ann as before her change");
		expect(await stale).toBe("ann as before her change");
		expect(await accounts.get("token-1", async () => ({ value: "ann as now", expiresAt: Infinity }))).toBe("ann as now");
	});

	it("keeps no unknown account, and at most its size, dropping the oldest", async () => {
		const accounts = cache();
		const unknown = jest.fn(async () => null);
		await accounts.get("forged", unknown);
		await accounts.get("forged", unknown);
		expect(unknown).toHaveBeenCalledTimes(2);
		const load = counting();
		for (const key of ["a", "b", "c"]) await accounts.get(key, load);
		await accounts.get("c", load);
		await accounts.get("b", load);
		expect(load).toHaveBeenCalledTimes(3);
		await accounts.get("a", load);
		expect(load).toHaveBeenCalledTimes(4);
	});
});
