/** A promotion: a notification (and a mail) to every user. */
import { useState } from "preact/hooks";
import { api, ApiError } from "../api";
import { ErrorAlert, Field, Notice } from "../ui";

export function Promotions() {
	const [form, setForm] = useState({ title: "", message: "" });
	const [error, setError] = useState<unknown>(null);
	const [sent, setSent] = useState<string | null>(null);
	const fieldError = (field: string) => (error instanceof ApiError ? error.forField(field) : undefined);

	async function send(e: Event) {
		e.preventDefault();
		setError(null);
		setSent(null);
		try {
			await api.post("/api/promotions", form);
			setSent(form.title);
			setForm({ title: "", message: "" });
		} catch (err) {
			setError(err);
		}
	}

	return (
		<section class="narrow" aria-labelledby="promo-title">
			<h1 id="promo-title">Promotions</h1>
			{sent && <Notice>“{sent}” is on its way to every user.</Notice>}
			<form class="card" onSubmit={send} noValidate>
				<Field
					id="promo-title-input"
					label="Title"
					value={form.title}
					error={fieldError("title")}
					onInput={e => setForm({ ...form, title: e.currentTarget.value })}
				/>
				<div class="field">
					<label for="promo-message">Message</label>
					<textarea
						id="promo-message"
						rows={4}
						value={form.message}
						aria-invalid={fieldError("message") ? "true" : undefined}
						aria-describedby={fieldError("message") ? "promo-message-error" : undefined}
						onInput={e => setForm({ ...form, message: e.currentTarget.value })}
					/>
					{fieldError("message") && (
						<small id="promo-message-error" class="field-error">
							{fieldError("message")}
						</small>
					)}
				</div>
				<ErrorAlert error={error} shownFields={["title", "message"]} />
				<button type="submit" class="primary">
					Send to everyone
				</button>
			</form>
		</section>
	);
}
