/**
 * For a service whose node should keep near the cached answers it gets from other nodes
 * (the gateway: a hot product read then costs it no call at all). The node hears every
 * service's `cache.clean.<service>` broadcast, which the db mixin sends with every change,
 * and empties what it keeps of the answers it names; only then does its cacher keep other nodes'
 * answers (src/cache/near-cacher.ts). Without the cluster's Redis cacher it does nothing:
 * in one process every action is local and cached where it runs.
 */
import type { Context, ServiceBroker, ServiceSchema } from "moleculer";
import { cleanedBy } from "../src/cache/clean-broadcast";
import { NearCacher } from "../src/cache/near-cacher";

const nearCacher = (broker: ServiceBroker) => (broker.cacher instanceof NearCacher ? broker.cacher : undefined);

export const NearCachedCalls: Partial<ServiceSchema> = {
	events: {
		"cache.clean.*"(this: { broker: ServiceBroker }, ctx: Context<{ match?: unknown } | undefined>) {
			const match = cleanedBy(ctx);
			if (match) nearCacher(this.broker)?.cleanLocal(match);
		},
	},

	created(this: { broker: ServiceBroker }) {
		const cacher = nearCacher(this.broker);
		if (cacher) cacher.keepRemoteAnswers = true;
	},
};
