import { type Static, Type } from "typebox";
import { Nullable, StringEnum, Uuid } from "../../platform/schemas.ts";
import { SUGGESTION_STATES, VERSION_KINDS, VERSION_STORAGES } from "./tables.ts";

/**
 * The writing module's resources as the API shows them, declared once: the
 * routes answer with these schemas (and the OpenAPI document is made from
 * them), and the view types the services return are derived from them, so a
 * view that drifts from its schema does not compile. views.ts maps rows onto
 * them. Timestamps are ISO 8601 strings.
 */

export const VersionKind = StringEnum(VERSION_KINDS);
export const SuggestionState = StringEnum(SUGGESTION_STATES);

// --- documents -----------------------------------------------------------------

export const Document = Type.Object({
  id: Uuid,
  title: Type.String(),
  description: Nullable(Type.String()),
  tags: Type.Array(Type.String()),
  isArchived: Type.Boolean(),
  archivedAt: Nullable(Type.String()),
  currentVersion: Type.Object({ id: Nullable(Type.String()), number: Type.Integer() }),
  contentSize: Type.Integer(),
  history: Type.Object(
    {
      versions: Type.Integer({ description: "live versions in the history" }),
      storedBytes: Type.Integer({ description: "bytes the history occupies in storage, compressed" }),
    },
    { description: "what the document's version history occupies" },
  ),
  owner: Type.Object({ kind: StringEnum(["user", "anonymous"]) }),
  organizationId: Type.String(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  lastAccessedAt: Type.String(),
  deletedAt: Nullable(Type.String()),
});
export type DocumentView = Static<typeof Document>;

export const DocumentWithContent = Type.Intersect([Document, Type.Object({ content: Type.String() })]);
export type DocumentWithContentView = Static<typeof DocumentWithContent>;

/** A document in a list; a search adds its rank and highlighted title and snippet. */
export const ListedDocument = Type.Intersect([
  Document,
  Type.Object({
    rank: Type.Optional(Type.Number()),
    highlights: Type.Optional(Type.Object({ title: Type.String(), snippet: Type.String() })),
  }),
]);
export type ListedDocumentView = Static<typeof ListedDocument>;

export const DownloadLink = Type.Object(
  { url: Type.String(), expiresAt: Type.String() },
  { description: "A signed link that needs no credentials until it expires." },
);
export type DownloadLinkView = Static<typeof DownloadLink>;

// --- versions and diffs --------------------------------------------------------

export const Version = Type.Object({
  id: Uuid,
  number: Type.Integer(),
  kind: VersionKind,
  changeDescription: Nullable(Type.String()),
  author: Type.Object({ userId: Nullable(Type.String()), anonymous: Type.Boolean() }),
  previousVersionId: Nullable(Type.String()),
  contentSize: Type.Integer(),
  storage: StringEnum(VERSION_STORAGES, {
    description: "How the version's content is stored: keyframe or delta (snapshot or delta in the earlier form)",
  }),
  storedSize: Type.Integer({
    description: "bytes this version added to storage; 0 when its content was already stored",
  }),
  suggestionState: Nullable(SuggestionState, {
    description: "For an ai_suggestion version: whether it was accepted or rejected yet",
  }),
  createdAt: Type.String(),
  expiresAt: Nullable(Type.String()),
});
export type VersionView = Static<typeof Version>;

export const VersionWithContent = Type.Intersect([Version, Type.Object({ content: Type.String() })], {
  description: "The version, with its content.",
});
export type VersionWithContentView = Static<typeof VersionWithContent>;

/** The version a save or a restore made. */
export const NewVersion = Type.Object({
  id: Uuid,
  number: Type.Integer(),
  kind: VersionKind,
  createdAt: Type.String(),
});
export type NewVersionView = Static<typeof NewVersion>;

export const Diff = Type.Object(
  {
    from: Type.Integer(),
    to: Type.Integer(),
    changes: Type.Array(
      Type.Object({
        op: StringEnum(["equal", "insert", "delete"]),
        text: Type.String(),
      }),
    ),
    stats: Type.Object({
      insertedChars: Type.Integer(),
      deletedChars: Type.Integer(),
      unchangedChars: Type.Integer(),
    }),
  },
  {
    description:
      "The changes in order: concatenating equal and delete texts gives from, equal and insert texts gives to.",
  },
);
export type DiffView = Static<typeof Diff>;

// --- AI suggestions --------------------------------------------------------------

export const Suggestion = Type.Object({
  id: Uuid,
  documentId: Uuid,
  versionNumber: Type.Integer(),
  content: Type.String(),
  cached: Type.Boolean(),
  model: Type.String(),
  templateId: Nullable(Type.String()),
  status: SuggestionState,
  createdAt: Type.String(),
});
export type SuggestionView = Static<typeof Suggestion>;

export const AcceptedSuggestion = Type.Object(
  {
    suggestionId: Uuid,
    status: Type.Literal("accepted"),
    version: Type.Object({ id: Uuid, number: Type.Integer() }),
  },
  { description: "Accepted: the suggestion's content is the document's newest version." },
);
export type AcceptedSuggestionView = Static<typeof AcceptedSuggestion>;

export const RejectedSuggestion = Type.Object(
  { suggestionId: Uuid, status: Type.Literal("rejected") },
  { description: "Rejected: its version is pruned in time." },
);
export type RejectedSuggestionView = Static<typeof RejectedSuggestion>;

// --- prompt templates --------------------------------------------------------------

export const PromptTemplate = Type.Object({
  id: Uuid,
  name: Type.String(),
  description: Nullable(Type.String()),
  promptText: Type.String(),
  category: Type.String(),
  isSystem: Type.Boolean(),
  version: Type.Integer(),
  createdAt: Type.String(),
});
export type PromptTemplateView = Static<typeof PromptTemplate>;
