/** The notifications inbox: newest first, unread ones marked, live. */
import { api, type Inbox as InboxPage } from "../api";
import { dateTime } from "../format";
import { useApi } from "../hooks";
import { useApp } from "../state";
import { ErrorAlert, Loading } from "../ui";

export function Inbox() {
	const { refreshUnread } = useApp();
	const inbox = useApi<InboxPage>("/api/notifications?pageSize=50", 3000);

	async function markRead(id?: string) {
		await api.post(id ? `/api/notifications/${id}/read` : "/api/notifications/read-all");
		inbox.reload();
		refreshUnread();
	}

	return (
		<section aria-labelledby="inbox-title">
			<h1 id="inbox-title">Notifications</h1>
			<ErrorAlert error={inbox.error} />
			{!inbox.data ? (
				<Loading what="notifications" />
			) : (
				<>
					<p>
						{inbox.data.unread} unread{" "}
						{inbox.data.unread > 0 && (
							<button type="button" onClick={() => markRead()}>
								Mark all read
							</button>
						)}
					</p>
					{inbox.data.rows.length === 0 ? (
						<p>Nothing yet.</p>
					) : (
						<ul class="inbox">
							{inbox.data.rows.map(n => (
								<li key={n.id} class={`card notification ${n.read ? "read" : "unread"}`}>
									<h2>
										{!n.read && <span class="visually-hidden">Unread: </span>}
										{n.title}
									</h2>
									<p>{n.body}</p>
									<p class="muted">
										{dateTime(n.createdAt)}
										{!n.read && (
											<>
												{" · "}
												<button type="button" class="link" onClick={() => markRead(n.id)}>
													Mark read
												</button>
											</>
										)}
									</p>
								</li>
							))}
						</ul>
					)}
				</>
			)}
		</section>
	);
}
