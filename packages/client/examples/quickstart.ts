import { createStrataClient, isStrataError, unwrap } from "@strata/client";

const strata = createStrataClient({ baseUrl: process.env.STRATA_URL ?? "http://localhost:8080" });

// Signs up and keeps the session: every request carries the token, refreshed when it expires.
await strata.auth.register({ email: "ada@example.com", password: "correct horse battery staple" });

// Calls are typed by the OpenAPI document; unwrap returns the data or throws a StrataError.
const doc = await unwrap(
  strata.POST("/v1/documents", { body: { title: "Essay", content: "the first draft. it needs work." } }),
);

// Every list is an async iterator that follows nextCursor.
for await (const document of strata.paginate("/v1/documents", { params: { query: { limit: 20 } } })) {
  console.log(document.title, document.currentVersion.number);
}

// A suggestion streams as server-sent events.
for await (const event of strata.streamSuggestion(doc.id, { prompt: "Capitalize the sentences." })) {
  if (event.event === "chunk") console.log("chunk:", event.data.text);
  else console.log("suggestion:", event.data.content);
}

// Errors carry the server's code, typed.
try {
  await unwrap(strata.GET("/v1/documents/{documentId}", { params: { path: { documentId: crypto.randomUUID() } } }));
} catch (error) {
  if (isStrataError(error, "document_not_found")) console.log("not found:", error.status);
  else throw error;
}
