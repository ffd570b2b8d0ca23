/** Products and stock: add a product, change stock, withdraw a product. */
import { useState } from "preact/hooks";
import { api, ApiError, type Page, type Product } from "../api";
import { money } from "../format";
import { useApi } from "../hooks";
import { ErrorAlert, Field, Loading, Notice } from "../ui";

const EMPTY = { name: "", description: "", price: "", currency: "USD", category: "", stock: "0" };

export function ProductsAdmin() {
	const products = useApi<Page<Product>>("/api/products?pageSize=100&sort=name", 5000);
	const [form, setForm] = useState(EMPTY);
	const [formError, setFormError] = useState<unknown>(null);
	const [error, setError] = useState<unknown>(null);
	const [notice, setNotice] = useState<string | null>(null);
	const fieldError = (field: string) => (formError instanceof ApiError ? formError.forField(field) : undefined);

	async function create(e: Event) {
		e.preventDefault();
		setFormError(null);
		try {
			// Price is typed in major units and sent as minor units (cents), as the API keeps money.
			const price = form.price.trim() === "" ? undefined : Math.round(Number(form.price) * 100);
			const { body } = await api.post<Product>("/api/products", { ...form, price, stock: Number(form.stock) });
			setNotice(`Added ${body.name}.`);
			setForm(EMPTY);
			products.reload();
		} catch (err) {
			setFormError(err);
		}
	}

	async function run(action: () => Promise<unknown>, done: string) {
		setError(null);
		setNotice(null);
		try {
			await action();
			setNotice(done);
		} catch (err) {
			setError(err);
		}
		products.reload();
	}

	return (
		<section aria-labelledby="products-admin-title">
			<h1 id="products-admin-title">Products and stock</h1>
			{notice && <Notice>{notice}</Notice>}
			<ErrorAlert error={error ?? products.error} />
			{!products.data ? (
				<Loading what="products" />
			) : (
				<div class="table-wrap">
					<table class="table">
						<thead>
							<tr>
								<th scope="col">Product</th>
								<th scope="col">Category</th>
								<th scope="col">Price</th>
								<th scope="col">Stock</th>
								<th scope="col">Change stock</th>
								<th scope="col">
									<span class="visually-hidden">Withdraw</span>
								</th>
							</tr>
						</thead>
						<tbody>
							{products.data.rows.map(p => (
								<tr key={p.id} data-product-id={p.id}>
									<td>{p.name}</td>
									<td>{p.category}</td>
									<td>{money(p.price, p.currency)}</td>
									<td class={p.stock < 5 ? "warn" : undefined}>{p.stock}</td>
									<td>
										<StockForm
											product={p}
											onSubmit={delta => run(() => api.post(`/api/products/${p.id}/stock`, { delta }), `Stock of ${p.name} changed by ${delta}.`)}
										/>
									</td>
									<td>
										<button type="button" class="link" onClick={() => run(() => api.delete(`/api/products/${p.id}`), `${p.name} is withdrawn.`)}>
											Withdraw
										</button>
									</td>
								</tr>
							))}
						</tbody>
					</table>
				</div>
			)}

			<form class="card" onSubmit={create} noValidate aria-labelledby="new-product-title">
				<h2 id="new-product-title">Add a product</h2>
				<div class="row">
					<Field id="p-name" label="Name" value={form.name} error={fieldError("name")} onInput={e => setForm({ ...form, name: e.currentTarget.value })} />
					<Field
						id="p-category"
						label="Category"
						value={form.category}
						error={fieldError("category")}
						onInput={e => setForm({ ...form, category: e.currentTarget.value })}
					/>
				</div>
				<Field
					id="p-description"
					label="Description"
					value={form.description}
					error={fieldError("description")}
					onInput={e => setForm({ ...form, description: e.currentTarget.value })}
				/>
				<div class="row">
					<Field
						id="p-price"
						label="Price"
						inputMode="decimal"
						hint="e.g. 12.50"
						value={form.price}
						error={fieldError("price")}
						onInput={e => setForm({ ...form, price: e.currentTarget.value })}
					/>
					<Field
						id="p-currency"
						label="Currency"
						value={form.currency}
						error={fieldError("currency")}
						onInput={e => setForm({ ...form, currency: e.currentTarget.value })}
					/>
					<Field
						id="p-stock"
						label="Stock"
						type="number"
						min={0}
						value={form.stock}
						error={fieldError("stock")}
						onInput={e => setForm({ ...form, stock: e.currentTarget.value })}
					/>
				</div>
				<ErrorAlert error={formError} shownFields={["name", "category", "description", "price", "currency", "stock"]} />
				<button type="submit" class="primary">
					Add product
				</button>
			</form>
		</section>
	);
}

function StockForm({ product, onSubmit }: { product: Product; onSubmit: (delta: number) => void }) {
	const [delta, setDelta] = useState("10");
	return (
		<form
			class="inline-form"
			onSubmit={e => {
				e.preventDefault();
				onSubmit(Number(delta));
			}}
		>
			<label class="visually-hidden" for={`delta-${product.id}`}>
				Stock change for {product.name}
			</label>
			<input id={`delta-${product.id}`} class="qty" type="number" value={delta} onInput={e => setDelta(e.currentTarget.value)} />
			<button type="submit">Apply</button>
		</form>
	);
}
