/** The documentation of every routed action, one module per service. */
import type { ActionDocs } from "../action-doc";
import { analyticsDocs } from "./analytics";
import { apiDocs } from "./api";
import { catalogDocs } from "./catalog";
import { discoveryDocs } from "./discovery";
import { notificationsDocs } from "./notifications";
import { ordersDocs } from "./orders";
import { paymentsDocs } from "./payments";
import { usersDocs } from "./users";

export const ACTION_DOCS: ActionDocs = {
	...apiDocs,
	...usersDocs,
	...catalogDocs,
	...ordersDocs,
	...paymentsDocs,
	...notificationsDocs,
	...analyticsDocs,
	...discoveryDocs,
};
