#!/usr/bin/env node
/**
 * tutorial-client — the tutorial's client.c in TypeScript, byte for byte the same exchange:
 * connect, prompt "Please enter the message: ", send one line of stdin, print the answer (up to
 * 255 bytes). Compare it line by line with docs/c/client.c.
 *
 * Run it in two terminals (any pairing with the C programs works the same):
 *   pnpm tutorial:server 7000              # terminal 1 (or: ./server 7000)
 *   pnpm tutorial:client localhost 7000    # terminal 2 (or: ./client localhost 7000)
 */

import { explain } from "@socket-lab/core";
import { connect } from "@socket-lab/tcp";
import { fgets, reads } from "./internal/reads.js";

const [hostname, port] = process.argv.slice(2);
if (hostname === undefined || port === undefined) {
  process.stderr.write("usage tutorial-client hostname port\n");
  process.exit(0);
}

try {
  // socket + gethostbyname + connect: the three-way handshake, or "connection refused".
  const connection = await connect(`${hostname}:${port}`, { framing: reads() });
  process.stdout.write("Please enter the message: ");
  // fgets(buffer, 255, stdin), then write(sockfd, buffer, strlen(buffer))
  await connection.send(await fgets(255, process.stdin));
  // read(sockfd, buffer, 255): the first bytes of the answer; printf("%s\n", buffer)
  const { value } = await connection[Symbol.asyncIterator]().next();
  process.stdout.write(Buffer.concat([value ?? Buffer.alloc(0), Buffer.from("\n")]));
  // close(sockfd)
  await connection.close();
} catch (error) {
  // error("ERROR connecting"): perror's words; exit 0, as the tutorial's client does.
  process.stderr.write(`ERROR: ${explain(error).message}\n`);
}
