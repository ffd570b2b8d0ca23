/** catalog: being written. */
import type { ServiceSchema } from "moleculer";

const Service: ServiceSchema = { name: "catalog" };

export default Service;
