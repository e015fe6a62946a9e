import { Counter, Gauge } from "prom-client";
import { Type } from "typebox";
import { ChangeHub } from "../../platform/changes/change-hub.ts";
import { errors } from "../../platform/errors/catalog.ts";
import type { Platform } from "../../runtime/platform.ts";
import type { App } from "../app.ts";
import { ChangeConnection } from "../change-connection.ts";
import { errorResponses, READ_ROUTE } from "../error-responses.ts";
import { OPTIONAL_BEARER } from "../openapi.ts";

/** Bytes a subscriber may leave unread before it is told to reload. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

const PROTOCOL = `A WebSocket of JSON text frames.

Authenticate with the upgrade request's \`Authorization: Bearer\` header, or with \`{"type":"auth","token":"..."}\` as
the first message (within 10 s). Then \`{"type":"subscribe","topics":["knowledge","chat:<id>"],"after":<position>}\`:
topics are \`knowledge\` (the system's and the organization's entries), \`chat\` or \`chat:<id>\` (the caller's chats'
messages), \`context\` or \`context:<id>\` (the organization's generation contexts' status), \`journal\` or
\`journal:<id>\` (analysis results of the caller's entries). A topic the caller may not follow is refused at once
(\`refused\`, with the code a read of it would answer). \`after\` is the last position the client saw: what it missed
is sent first, unless the history no longer reaches back (\`{"type":"reload"}\`, then close 4409).

Each change arrives once, in order: \`{"type":"change","position":N,"topic":...,"subject":...,"event":...,"data":{...}}\`.
Close codes: 1007 not JSON; 1008 a message out of shape; 1009 a frame over 16 KiB; 4401 not authenticated, or
access ended (logout, a revoked key, a removed membership); 4408 no auth message in time; 4409 too far behind.`;

/**
 * /v1/changes: the change feed over WebSocket (platform/changes). Each
 * process runs one hub, which hears every committed change and delivers it
 * to this process's subscribers; a plain HTTP request is answered 426.
 */
export async function registerChangesRoute(app: App, platform: Platform) {
  const hub = new ChangeHub(platform.changes, platform.kv, platform.logger, { maxBufferedBytes: MAX_BUFFERED_BYTES });
  await hub.start();
  const stopWatching = await platform.identity.watchEnded((what) => hub.ended(what));
  app.addHook("onClose", async () => {
    await stopWatching();
    await hub.stop();
  });
  new Gauge({
    name: "strata_changes_subscribers",
    help: "WebSocket subscribers of the change feed in this process.",
    registers: [platform.metrics.registry],
    collect() {
      this.set(hub.subscribers);
    },
  });
  new Counter({
    name: "strata_changes_delivered_total",
    help: "Changes written to subscribers' connections by this process.",
    registers: [platform.metrics.registry],
    collect() {
      this.reset();
      this.inc(hub.delivered);
    },
  });

  app.route({
    method: "GET",
    url: "/changes",
    schema: {
      tags: ["changes"],
      operationId: "followChanges",
      summary: "Follow committed changes over a WebSocket",
      description: PROTOCOL,
      security: OPTIONAL_BEARER,
      response: {
        101: Type.Null({ description: "Switched to the WebSocket protocol." }),
        ...errorResponses(...READ_ROUTE, "upgrade_required"),
      },
    },
    handler: async () => {
      throw errors.upgradeRequired();
    },
    wsHandler: (socket, request) => {
      new ChangeConnection(platform, hub, socket, request.principal);
    },
  });
}
