/**
 * NeDB index updates that leave a document in its place when its key did not change.
 *
 * On every update NeDB takes the old document out of each index of the collection and puts
 * the new one in: two walks of a balanced tree per index, with rebalancing, even for `_id`,
 * whose key never changes, and for every field the update did not touch. Where the key is
 * the same, this swaps the document in its tree node instead. A key that changed, or an
 * array key, goes through NeDB's own update, with its rollback on a unique violation.
 */

type Doc = Record<string, unknown>;
type Pair = { oldDoc: Doc; newDoc: Doc };
type Index = {
	fieldName: string;
	sparse: boolean;
	tree: { search(key: unknown): Doc[] };
	update(oldDoc: Doc | Pair[], newDoc?: Doc): void;
};

/* eslint-disable @typescript-eslint/no-require-imports -- NeDB's internals have no typings */
const { prototype: IndexPrototype } = require("@seald-io/nedb/lib/indexes.js") as { prototype: Index };
const model = require("@seald-io/nedb/lib/model.js") as { getDotValue(doc: Doc, field: string): unknown };
/* eslint-enable @typescript-eslint/no-require-imports */

const nedbUpdate = IndexPrototype.update;

/** A key an index holds as it is: one string, number or boolean (not an array, a date or an object). */
const isPlainKey = (key: unknown) => typeof key === "string" || typeof key === "number" || typeof key === "boolean";

/** Swaps the document in place when its key is unchanged: true if done. */
function swapInPlace(index: Index, { oldDoc, newDoc }: Pair): boolean {
	const oldKey = model.getDotValue(oldDoc, index.fieldName);
	const newKey = model.getDotValue(newDoc, index.fieldName);
	// A sparse index holds no document without the key: nothing to do.
	if (oldKey === undefined && newKey === undefined && index.sparse) return true;
	if (!isPlainKey(oldKey) || oldKey !== newKey) return false;
	const docs = index.tree.search(oldKey);
	const at = docs.indexOf(oldDoc);
	if (at === -1) return false;
	docs[at] = newDoc;
	return true;
}

let installed = false;

/** Installs the in-place path on NeDB's indexes (once per process; every datastore shares it). */
export function keepUnchangedIndexKeys(): void {
	if (installed) return;
	installed = true;
	IndexPrototype.update = function update(this: Index, oldDoc: Doc | Pair[], newDoc?: Doc) {
		const pairs = Array.isArray(oldDoc) ? oldDoc : [{ oldDoc, newDoc: newDoc! }];
		const swapped: Pair[] = [];
		const moved: Pair[] = [];
		for (const pair of pairs) (swapInPlace(this, pair) ? swapped : moved).push(pair);
		if (moved.length === 0) return;
		try {
			nedbUpdate.call(this, moved);
		} catch (err) {
			// NeDB rolled its part back; the swaps go back too, so that the index is as it was.
			for (const { oldDoc: before, newDoc: after } of swapped) swapInPlace(this, { oldDoc: after, newDoc: before });
			throw err;
		}
	};
}
