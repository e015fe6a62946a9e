/**
 * The fan-out benchmark's peer: a bare `ws` server that broadcasts frames of
 * the same shape and size to every connected client, with none of Strata's
 * work (no relay, no history, no access checks). Its rate is the ceiling
 * the same machine and library allow. Prints its port; on `go <n>` from
 * stdin, sends n frames to every client, 500 at a time.
 */
import { createInterface } from "node:readline";
import { WebSocketServer } from "ws";
import { fanoutChange } from "./fanout-frame.ts";

const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
const clients = new Set<import("ws").WebSocket>();
server.on("connection", (socket) => {
  clients.add(socket);
  socket.on("message", () => socket.send(JSON.stringify({ type: "subscribed", topics: ["knowledge"], position: 0 })));
  socket.on("close", () => clients.delete(socket));
});
await new Promise((resolve) => server.once("listening", resolve));
process.stdout.write(`${JSON.stringify({ port: (server.address() as { port: number }).port, token: "" })}\n`);

const frame = (i: number) => JSON.stringify({ type: "change", position: i + 1, ...fanoutChange(i) });

for await (const line of createInterface({ input: process.stdin })) {
  const [command, count] = line.split(" ");
  if (command !== "go") continue;
  const total = Number(count);
  for (let done = 0; done < total; done += 500) {
    for (let i = done; i < Math.min(total, done + 500); i++) {
      const text = frame(i);
      for (const socket of clients) socket.send(text);
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  process.stdout.write("published\n");
}
