#!/usr/bin/env node
/**
 * tutorial-server — the tutorial's server.c in TypeScript, byte for byte the same exchange:
 * accept one client, read up to 255 bytes, print "Here is the message: …", answer
 * "I got your message", close. Compare it line by line with docs/c/server.c.
 *
 * Run it in two terminals (any pairing with the C programs works the same):
 *   pnpm tutorial:server 7000              # terminal 1 (or: ./server 7000)
 *   pnpm tutorial:client localhost 7000    # terminal 2 (or: ./client localhost 7000)
 */

import { explain } from "@socket-lab/core";
import { listen } from "@socket-lab/tcp";
import { reads, TUTORIAL_READ_BYTES } from "./internal/reads.js";

const [port] = process.argv.slice(2);
if (port === undefined) {
  process.stderr.write("ERROR, no port provided\n");
  process.exit(1);
}

try {
  // socket + bind + listen(sockfd, 5): 127.0.0.1 only, as docs/c/server.c.
  const server = await listen(`127.0.0.1:${port}`, { framing: reads(), backlog: 5 });
  // accept: the first client's connection, a new socket; server.c serves one client only.
  for await (const connection of server) {
    // read(newsockfd, buffer, 255): the first bytes that arrive, however many were sent.
    const { value } = await connection[Symbol.asyncIterator]().next();
    const buffer = (value ?? Buffer.alloc(0)).subarray(0, TUTORIAL_READ_BYTES);
    // printf("Here is the message: %s\n", buffer)
    process.stdout.write(Buffer.concat([Buffer.from("Here is the message: "), buffer]));
    process.stdout.write("\n");
    // write(newsockfd, "I got your message", 18)
    await connection.send(Buffer.from("I got your message"));
    // close(newsockfd)
    await connection.close();
    break;
  }
  // close(sockfd)
  await server.close();
} catch (error) {
  // error("ERROR on binding"): perror's words, then exit 1.
  process.stderr.write(`ERROR: ${explain(error).message}\n`);
  process.exitCode = 1;
}
