// The Cloudflare Worker entry (wrangler.jsonc `main`): the edge gateway.
import { createGateway } from "../src/edge/gateway.js";

export default createGateway();
