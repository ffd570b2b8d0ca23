/**
 * Baseline: bare node:http answering GET /api/hello with a small JSON body. The ceiling of
 * any Node.js server on this machine. PORT is given by the benchmark.
 */
import http from "node:http";
import { HELLO } from "./hello";

const body = JSON.stringify(HELLO);

http
	.createServer((_req, res) => {
		res.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body) });
		res.end(body);
	})
	.listen(Number(process.env.PORT), "127.0.0.1");
