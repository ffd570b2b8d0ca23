import { AccountCache } from "../../src/gateway/account-cache";

describe("the gateway's account cache", () => {
	let now = 0;
	const cache = () => new AccountCache<string>(1000, 2, () => now);
	const counting = () => {
		const load = jest.fn(async () => "ann");
		return load;
	};

	beforeEach(() => (now = 0));

	it("asks once for an account it keeps, again once it expired", async () => {
		const accounts = cache();
		const load = counting();
		expect(await accounts.get("u1:0", load)).toBe("ann");
		expect(await accounts.get("u1:0", load)).toBe("ann");
		expect(load).toHaveBeenCalledTimes(1);
		now = 1000;
		await accounts.get("u1:0", load);
		expect(load).toHaveBeenCalledTimes(2);
	});

	it("forgets every account on a clean", async () => {
		const accounts = cache();
		const load = counting();
		await accounts.get("u1:0", load);
		accounts.clear();
		await accounts.get("u1:0", load);
		expect(load).toHaveBeenCalledTimes(2);
	});

	it("does not keep what was read before a clean that came during the read", async () => {
		const accounts = cache();
		let finish!: (value: string) => void;
		const stale = accounts.get("u1:0", () => new Promise<string>(resolve => (finish = resolve)));
		accounts.clear();
		finish("ann as before her change");
		expect(await stale).toBe("ann as before her change");
		expect(await accounts.get("u1:0", async () => "ann as now")).toBe("ann as now");
	});

	it("keeps no unknown account, and at most its size, dropping the oldest", async () => {
		const accounts = cache();
		const unknown = jest.fn(async () => null);
		await accounts.get("gone:0", unknown);
		await accounts.get("gone:0", unknown);
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
