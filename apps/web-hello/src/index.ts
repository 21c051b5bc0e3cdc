/** web-hello as a library, for the bench: the server and its HTTP framing. */

export type {
  HttpLimits,
  HttpMessage,
  HttpRequest,
  HttpRequestError,
  HttpResponse,
} from "./http-framing.js";
export { http } from "./http-framing.js";
export type { Certificate, SiteOptions, WebEvent, WebServer } from "./options.js";
export type { ConnectionStory } from "./page.js";
export { page } from "./page.js";
export { startServer } from "./server.js";
