/** Browse: search, category filter, sort; and one product's page. */
import { useState } from "preact/hooks";
import { query, type Page, type Product } from "../api";
import { money } from "../format";
import { useApi, useDebounced } from "../hooks";
import { useApp } from "../state";
import { ErrorAlert, Loading, Notice } from "../ui";

const SORTS = [
	["name", "Name"],
	["price", "Price, low to high"],
	["-price", "Price, high to low"],
	["-createdAt", "Newest"],
] as const;

export function ProductList() {
	const [search, setSearch] = useState("");
	const [category, setCategory] = useState("");
	const [sort, setSort] = useState("name");
	const [page, setPage] = useState(1);
	// Categories from the whole catalog (one page of the largest size).
	const all = useApi<Page<Product>>("/api/products?pageSize=100");
	const categories = [...new Set((all.data?.rows ?? []).map(p => p.category))].sort();
	const searched = useDebounced(search.trim(), 250);
	const list = useApi<Page<Product>>(`/api/products${query({ search: searched, category, sort, page, pageSize: 12 })}`);

	return (
		<section aria-labelledby="products-title">
			<h1 id="products-title">Products</h1>
			<form class="filters" role="search" onSubmit={e => e.preventDefault()}>
				<div class="field">
					<label for="search">Search</label>
					<input id="search" type="search" value={search} placeholder="Name or description" onInput={e => (setSearch(e.currentTarget.value), setPage(1))} />
				</div>
				<div class="field">
					<label for="category">Category</label>
					<select id="category" value={category} onChange={e => (setCategory(e.currentTarget.value), setPage(1))}>
						<option value="">All</option>
						{categories.map(c => (
							<option key={c} value={c}>
								{c}
							</option>
						))}
					</select>
				</div>
				<div class="field">
					<label for="sort">Sort by</label>
					<select id="sort" value={sort} onChange={e => setSort(e.currentTarget.value)}>
						{SORTS.map(([value, label]) => (
							<option key={value} value={value}>
								{label}
							</option>
						))}
					</select>
				</div>
			</form>
			<ErrorAlert error={list.error} />
			{list.data === undefined ? (
				<Loading what="products" />
			) : list.data.rows.length === 0 ? (
				<p>No products match.</p>
			) : (
				<>
					<p class="muted" aria-live="polite">
						{list.data.total} {list.data.total === 1 ? "product" : "products"}
					</p>
					<ul class="product-grid">
						{list.data.rows.map(product => (
							<ProductCard key={product.id} product={product} />
						))}
					</ul>
					{list.data.totalPages > 1 && (
						<nav class="pager" aria-label="Pages">
							<button type="button" disabled={page <= 1} onClick={() => setPage(page - 1)}>
								Previous
							</button>
							<span>
								Page {list.data.page} of {list.data.totalPages}
							</span>
							<button type="button" disabled={page >= list.data.totalPages} onClick={() => setPage(page + 1)}>
								Next
							</button>
						</nav>
					)}
				</>
			)}
		</section>
	);
}

function ProductCard({ product }: { product: Product }) {
	const { addToCart } = useApp();
	const [added, setAdded] = useState(false);
	return (
		<li class="card product-card">
			<span class="category">{product.category}</span>
			<h2>
				<a href={`#/product/${product.id}`}>{product.name}</a>
			</h2>
			<p class="price">{money(product.price, product.currency)}</p>
			<p class={product.stock > 0 ? "muted" : "warn"}>{product.stock > 0 ? `${product.stock} in stock` : "Out of stock"}</p>
			<button
				type="button"
				disabled={product.stock === 0}
				onClick={() => {
					addToCart(product, 1);
					setAdded(true);
				}}
			>
				{added ? "Added" : "Add"}
				<span class="visually-hidden"> {product.name}</span> to cart{added && " ✓"}
			</button>
		</li>
	);
}

export function ProductPage({ id }: { id: string }) {
	const { addToCart } = useApp();
	const product = useApi<Product>(`/api/products/${encodeURIComponent(id)}`, 5000);
	const [quantity, setQuantity] = useState(1);
	const [added, setAdded] = useState(0);
	if (product.error && !product.data) return <ErrorAlert error={product.error} />;
	if (!product.data) return <Loading what="the product" />;
	const p = product.data;
	return (
		<article class="product-page" aria-labelledby="product-title">
			<p>
				<a href="#/">← All products</a>
			</p>
			<span class="category">{p.category}</span>
			<h1 id="product-title">{p.name}</h1>
			<p class="price big">{money(p.price, p.currency)}</p>
			<p>{p.description}</p>
			<p class={p.stock > 0 ? "muted" : "warn"} data-testid="stock">
				{p.stock > 0 ? `${p.stock} in stock` : "Out of stock"}
			</p>
			<form
				class="inline-form"
				onSubmit={e => {
					e.preventDefault();
					addToCart(p, quantity);
					setAdded(quantity);
				}}
			>
				<div class="field">
					<label for="quantity">Quantity</label>
					<input
						id="quantity"
						type="number"
						min={1}
						max={Math.max(1, p.stock)}
						value={quantity}
						onInput={e => setQuantity(Math.max(1, Number(e.currentTarget.value) || 1))}
					/>
				</div>
				<button type="submit" disabled={p.stock === 0}>
					Add to cart
				</button>
			</form>
			{added > 0 && (
				<Notice>
					Added {added} to your cart. <a href="#/cart">Go to the cart</a>
				</Notice>
			)}
		</article>
	);
}
