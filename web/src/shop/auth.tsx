/** Sign up and log in; the API's messages show at their fields. */
import { useState } from "preact/hooks";
import { api, ApiError, type User } from "../api";
import { navigate } from "../router";
import { useApp } from "../state";
import { ErrorAlert, Field } from "../ui";

export function AuthForm({ mode, next }: { mode: "login" | "signup"; next: string }) {
	const { signIn } = useApp();
	const [form, setForm] = useState({ name: "", email: "", password: "" });
	const [error, setError] = useState<unknown>(null);
	const [busy, setBusy] = useState(false);
	const signup = mode === "signup";
	const fieldError = (field: string) => (error instanceof ApiError ? error.forField(field) : undefined);

	async function submit(e: Event) {
		e.preventDefault();
		setBusy(true);
		setError(null);
		try {
			const body = signup ? form : { email: form.email, password: form.password };
			const { body: session } = await api.post<{ user: User; token: string }>(signup ? "/api/auth/register" : "/api/auth/login", body);
			signIn(session);
			navigate(session.user.role === "admin" && next === "/" ? "/admin/cluster" : next);
		} catch (err) {
			setError(err);
		} finally {
			setBusy(false);
		}
	}

	return (
		<section class="narrow" aria-labelledby="auth-title">
			<h1 id="auth-title">{signup ? "Sign up" : "Log in"}</h1>
			<form class="card" onSubmit={submit} noValidate>
				{signup && (
					<Field
						id="name"
						label="Name"
						autoComplete="name"
						value={form.name}
						error={fieldError("name")}
						onInput={e => setForm({ ...form, name: e.currentTarget.value })}
					/>
				)}
				<Field
					id="email"
					label="Email"
					type="email"
					autoComplete="email"
					value={form.email}
					error={fieldError("email")}
					onInput={e => setForm({ ...form, email: e.currentTarget.value })}
				/>
				<Field
					id="password"
					label="Password"
					type="password"
					autoComplete={signup ? "new-password" : "current-password"}
					hint={signup ? "8 to 128 characters" : undefined}
					value={form.password}
					error={fieldError("password")}
					onInput={e => setForm({ ...form, password: e.currentTarget.value })}
				/>
				<ErrorAlert error={error} shownFields={["name", "email", "password"]} />
				<button type="submit" class="primary" disabled={busy}>
					{signup ? "Create account" : "Log in"}
				</button>
			</form>
			<p>
				{signup ? (
					<>
						Have an account? <a href={`#/login?next=${encodeURIComponent(next)}`}>Log in</a>
					</>
				) : (
					<>
						New here? <a href={`#/signup?next=${encodeURIComponent(next)}`}>Sign up</a>
					</>
				)}
			</p>
		</section>
	);
}
