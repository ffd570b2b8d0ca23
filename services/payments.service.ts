/** payments: being written. */
import type { ServiceSchema } from "moleculer";

const Service: ServiceSchema = { name: "payments" };

export default Service;
