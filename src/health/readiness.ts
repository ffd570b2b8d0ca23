/**
 * Whether a node is ready for work: its broker started (and is not stopping), its
 * transporter connected, and for each of its services the store and the event bus that
 * service uses are connected. Read from the broker and its services as they are, so a
 * new service is covered without registering anything.
 */

/** What readiness reads of a broker; a ServiceBroker has all of it. */
export type BrokerState = {
	started: boolean;
	stopping?: boolean;
	transit?: { connected: boolean } | null;
	services: ServiceState[];
};

/** What readiness reads of a service: its moleculer-db adapter and its durable-events bus, when it has them. */
export type ServiceState = {
	name: string;
	/** moleculer-db's adapter; mongoose's carries its connection (`readyState` 1 is connected), the embedded one's has none. */
	adapter?: { conn?: { readyState?: number } };
	/** The bus of the durable-events mixin, once the service opened it. */
	eventBus?: Promise<unknown>;
};

export type Readiness = { ready: boolean; checks: Record<string, boolean> };

/** How long an event bus that is still connecting may take before the node is reported not ready. */
const BUS_WAIT_MS = 500;

async function settlesOk(promise: Promise<unknown>, waitMs: number): Promise<boolean> {
	let timer: NodeJS.Timeout | undefined;
	const late = new Promise<boolean>(resolve => {
		timer = setTimeout(() => resolve(false), waitMs);
	});
	try {
		return await Promise.race([
			promise.then(
				() => true,
				() => false,
			),
			late,
		]);
	} finally {
		clearTimeout(timer);
	}
}

export async function readiness(broker: BrokerState, busWaitMs = BUS_WAIT_MS): Promise<Readiness> {
	const checks: Record<string, boolean> = { broker: broker.started && !broker.stopping };
	if (broker.transit) checks.transporter = broker.transit.connected;
	for (const service of broker.services) {
		if (service.adapter) {
			const state = service.adapter.conn?.readyState;
			checks[`store:${service.name}`] = state === undefined || state === 1;
		}
		if (service.eventBus) checks[`events:${service.name}`] = await settlesOk(service.eventBus, busWaitMs);
	}
	return { ready: Object.values(checks).every(Boolean), checks };
}
