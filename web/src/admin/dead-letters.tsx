/** Events a service gave up on after its retries, with replay. */
import { useState } from "preact/hooks";
import { api } from "../api";
import { dateTime } from "../format";
import { useApi } from "../hooks";
import { ErrorAlert, Loading, Notice } from "../ui";

type DeadLetter = { id: string; group: string; event: { id: string; type: string; at: string; data: unknown }; error: string; failedAt: string };

export function DeadLetters() {
	const letters = useApi<{ rows: DeadLetter[] }>("/api/discovery/dead-letters", 5000);
	const [error, setError] = useState<unknown>(null);
	const [notice, setNotice] = useState<string | null>(null);
	const rows = letters.data?.rows;

	async function replay(letter: DeadLetter) {
		setError(null);
		setNotice(null);
		try {
			await api.post(`/api/discovery/dead-letters/${encodeURIComponent(letter.id)}/replay`);
			setNotice(`${letter.event.type} replayed to ${letter.group}; the dead letter goes once the event is handled.`);
		} catch (err) {
			setError(err);
		}
		letters.reload();
	}

	return (
		<section aria-labelledby="dead-title">
			<h1 id="dead-title">Dead letters</h1>
			<p class="muted">Events a service could not handle after every retry. Replay one once its cause is fixed.</p>
			{notice && <Notice>{notice}</Notice>}
			<ErrorAlert error={error ?? letters.error} />
			{rows === undefined ? (
				<Loading what="dead letters" />
			) : rows.length === 0 ? (
				<p data-testid="no-dead-letters">No dead letters.</p>
			) : (
				<ul class="order-list">
					{rows.map(letter => (
						<li key={letter.id} class="card">
							<h2>
								{letter.event.type} <span class="muted small">for {letter.group}</span>
							</h2>
							<p class="muted small">
								Event {letter.event.id} of {dateTime(letter.event.at)}, failed {dateTime(letter.failedAt)}
							</p>
							<p class="field-error">{letter.error}</p>
							<details>
								<summary>Data</summary>
								<pre>{JSON.stringify(letter.event.data, null, 2)}</pre>
							</details>
							<button type="button" onClick={() => replay(letter)}>
								Replay
							</button>
						</li>
					))}
				</ul>
			)}
		</section>
	);
}
