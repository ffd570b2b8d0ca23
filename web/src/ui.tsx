/** Small shared pieces: form fields with the API's messages, alerts, status badges. */
import type { ComponentChildren, InputHTMLAttributes } from "preact";
import { ApiError } from "./api";
import { statusLabel } from "./format";

type FieldProps = InputHTMLAttributes<HTMLInputElement> & { label: string; id: string; error?: string; hint?: string };

/** A labelled input; its error (from the API) is announced and tied to it with aria-describedby. */
export function Field({ label, id, error, hint, ...input }: FieldProps) {
	const described = [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined;
	return (
		<div class="field">
			<label for={id}>{label}</label>
			<input id={id} aria-invalid={error ? "true" : undefined} aria-describedby={described} {...input} />
			{hint && (
				<small id={`${id}-hint`} class="hint">
					{hint}
				</small>
			)}
			{error && (
				<small id={`${id}-error`} class="field-error">
					{error}
				</small>
			)}
		</div>
	);
}

/** The error of a request, as the API said it; validation problems not shown at a field are listed. */
export function ErrorAlert({ error, shownFields = [] }: { error: unknown; shownFields?: string[] }) {
	if (!error) return null;
	const others = error instanceof ApiError ? error.problems.filter(p => !shownFields.includes(p.field)) : [];
	// The API's own message for each field shows at the field; the summary then just points there.
	const atFields = error instanceof ApiError && error.problems.length > 0 && others.length < error.problems.length;
	const message = atFields ? "Please correct the fields marked above." : error instanceof Error ? error.message : String(error);
	return (
		<div class="alert error" role="alert">
			<p>{message}</p>
			{others.length > 0 && (
				<ul>
					{others.map(p => (
						<li key={p.field + p.message}>{p.message}</li>
					))}
				</ul>
			)}
		</div>
	);
}

export function Notice({ children, kind = "success" }: { children: ComponentChildren; kind?: "success" | "info" }) {
	return (
		<div class={`alert ${kind}`} role="status">
			{children}
		</div>
	);
}

export function StatusBadge({ status }: { status: string }) {
	return <span class={`badge status-${status}`}>{statusLabel(status)}</span>;
}

export function Loading({ what }: { what: string }) {
	return (
		<p class="muted" role="status">
			Loading {what}…
		</p>
	);
}
