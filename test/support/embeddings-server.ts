import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A loopback HTTP server that speaks the OpenAI embeddings protocol
 * (`POST /embeddings`), for testing Strata's real client. Its "model" counts
 * letters: a text's vector is how often each of "abcdefgh" occurs in it, so
 * tests can predict it. It lists the vectors in reverse order (each with
 * its `index`), as a server may. `busyNext` answers 429 with the given
 * headers, `failNext` an HTTP error, `dimensionNext` vectors one longer.
 */
export async function startEmbeddingsServer() {
  const requests: { body: { model: string; input: string[] }; authorization: string | undefined }[] = [];
  let busy = 0;
  let busyHeaders: Record<string, string> = {};
  let failures = 0;
  let longer = 0;

  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method !== "POST" || !req.url?.endsWith("/embeddings")) {
      res
        .writeHead(404, { "content-type": "application/json" })
        .end(JSON.stringify({ error: { message: "not found" } }));
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString());
    requests.push({ body, authorization: req.headers.authorization });
    if (busy > 0) {
      busy--;
      res.writeHead(429, { "content-type": "application/json", ...busyHeaders });
      res.end(JSON.stringify({ error: { message: "Rate limit reached", code: "rate_limit_exceeded" } }));
      return;
    }
    if (failures > 0) {
      failures--;
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: "the model is overloaded", type: "server_error" } }));
      return;
    }
    const extra = longer > 0 ? 1 : 0;
    if (longer > 0) longer--;
    const data = (body.input as string[]).map((text, index) => ({
      object: "embedding",
      index,
      embedding: [...letterCounts(text), ...Array.from({ length: extra }, () => 1)],
    }));
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        object: "list",
        data: data.reverse(),
        model: body.model,
        usage: { prompt_tokens: 1, total_tokens: 1 },
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    busyNext(n: number, headers: Record<string, string> = {}) {
      busy = n;
      busyHeaders = headers;
    },
    failNext(n: number) {
      failures = n;
    },
    dimensionNext(n: number) {
      longer = n;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** How often each of "abcdefgh" occurs in `text` (lower case). */
export function letterCounts(text: string): number[] {
  return [..."abcdefgh"].map((letter) => text.toLowerCase().split(letter).length - 1);
}
