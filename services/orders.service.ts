/** orders: being written. */
import type { ServiceSchema } from "moleculer";

const Service: ServiceSchema = { name: "orders" };

export default Service;
