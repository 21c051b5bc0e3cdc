import { testReadmeDiagram } from "@socket-lab/test-utils/trace-diagram";
import { interrupt, run, startServer, stopAll } from "./_spawn.js";

testReadmeDiagram(
  { interrupt, run, startServer, stopAll },
  { client: "udp-echo-client", server: "udp-echo-server" },
);
