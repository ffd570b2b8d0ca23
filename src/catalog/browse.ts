/**
 * How a browse request (search, category, sort) becomes a store query. Only plain
 * operators that MongoDB, FerretDB and the embedded store all understand: equality, `$or` and a
 * RegExp — no `$text`.
 */

export const SEARCH_MAX_LENGTH = 100;

export const SORT_OPTIONS = ["name", "-name", "price", "-price", "createdAt", "-createdAt"] as const;
export type SortOption = (typeof SORT_OPTIONS)[number];
export const DEFAULT_SORT: SortOption = "name";

export type BrowseRequest = { search?: string; category?: string; sort?: SortOption };

/** The text with every RegExp special character escaped, so that it matches itself only. */
export function escapeRegExp(text: string): string {
	return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** A case-insensitive "contains this text" pattern for the user's search words. */
export function containsPattern(text: string): RegExp {
	return new RegExp(escapeRegExp(text), "i");
}

/**
 * The query for products a shopper may see: active ones, in the category if one is
 * given, whose name or description contains the search text (any case) if one is given.
 */
export function browseQuery({ search, category }: BrowseRequest): Record<string, unknown> {
	const query: Record<string, unknown> = { active: true };
	const categoryText = category?.trim();
	if (categoryText) query.category = categoryText;
	const searchText = search?.trim();
	if (searchText) {
		const pattern = containsPattern(searchText);
		query.$or = [{ name: { $regex: pattern } }, { description: { $regex: pattern } }];
	}
	return query;
}

/**
 * The sort fields of a sort option, with tie-breakers so that pages do not overlap or
 * skip products that share a price or a name: the option, then name, then id.
 */
export function sortFields(sort: SortOption = DEFAULT_SORT): string[] {
	const field = sort.replace(/^-/, "");
	return field === "name" ? [sort, "_id"] : [sort, "name", "_id"];
}
